"""Staff pages for paper answers: the transcription page and the file import with preview."""

from __future__ import annotations

import io
import re
import time
from datetime import date
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import Answer, AnswerStatus, Channel, Job, JobStatus, Moderation
from tests.app.staff_helpers import login
from tests.factories import make_staff, make_wall
from tests.surveys import hostile_files

DATA = Path(__file__).parent.parent / "surveys" / "data" / "imports"


def _job(session: Session, location: str) -> Job:
    assert location.startswith("/staff/jobs/"), location
    session.expire_all()
    job = session.get(Job, int(location.rsplit("/", 1)[1]))
    assert job is not None
    return job


def stored(session: Session) -> list[Answer]:
    session.expire_all()
    return list(session.scalars(select(Answer).order_by(Answer.id)))


def test_transcription_batch_then_notes_without_javascript(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session)
    login(client, make_staff(session, wall.campaign.organisation, "moderator"))
    page = client.get(f"/staff/walls/{wall.id}/transcribe").get_data(as_text=True)
    assert "Start typing" in page or "Begynd at skrive" in page
    url = (
        f"/staff/walls/{wall.id}/transcribe?prompt={wall.prompts[1].id}&place=Ungdomsklubben"
        "&date=2025-05-24&role=young"
    )
    page = client.get(url).get_data(as_text=True)
    assert 'id="note-text"' in page and "autofocus" in page
    submission = re.search(r'name="client_submission_id"[^>]*value="([^"]+)"', page)
    assert submission is not None
    response = client.post(
        url, data={"text": "Flere bordtennisborde", "client_submission_id": submission.group(1)}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(url.split("/staff", 1)[1])
    (answer,) = stored(session)
    assert (answer.channel, answer.place, answer.written_on, answer.role, answer.prompt_id) == (
        Channel.PAPER,
        "Ungdomsklubben",
        date(2025, 5, 24),
        "young",
        wall.prompts[1].id,
    )
    page = client.get(url).get_data(as_text=True)
    assert 'value="Flere bordtennisborde"' in page  # listed for correction
    empty = client.post(url, data={"text": "  ", "client_submission_id": "paper-00000002"})
    assert empty.status_code == 400
    assert len(stored(session)) == 1


def test_transcription_json_correct_and_delete(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session, moderation=Moderation.POST, profile_questions=[])
    login(client, make_staff(session, wall.campaign.organisation, "moderator"))
    url = f"/staff/walls/{wall.id}/transcribe?prompt={wall.prompts[0].id}"
    headers = {"Accept": "application/json"}
    first = client.post(
        url, data={"text": "Gratis svømning", "client_submission_id": "paper-1"}, headers=headers
    )
    assert first.status_code == 400  # the id is too short for the idempotency key
    first = client.post(
        url, data={"text": "Gratis svømning", "client_submission_id": "paper-00000001"},
        headers=headers,
    )  # fmt: skip
    body = first.get_json()
    assert first.status_code == 200 and body["created"] and not body["duplicate"]
    assert f'id="note-{body["id"]}"' in body["html"]
    again = client.post(
        url, data={"text": "gratis  svømning", "client_submission_id": "paper-00000002"},
        headers=headers,
    ).get_json()  # fmt: skip
    assert again["duplicate"]
    answer = session.get(Answer, body["id"])
    assert answer is not None and answer.status is AnswerStatus.APPROVED

    response = client.post(
        f"/staff/transcriptions/{body['id']}/correct",
        data={"text": "Gratis svømning for alle", "next": url},
    )
    assert response.status_code == 303 and response.headers["Location"] == url
    session.expire_all()
    assert session.get(Answer, body["id"]).text == "Gratis svømning for alle"
    assert client.post(f"/staff/transcriptions/{again['id']}/delete").status_code == 303
    assert [a.id for a in stored(session)] == [body["id"]]


def test_transcription_refuses_other_organisations_and_viewers(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session)
    login(client, make_staff(session, role="admin"))  # another organisation
    url = f"/staff/walls/{wall.id}/transcribe?prompt={wall.prompts[0].id}"
    assert client.get(url).status_code == 404
    assert (
        client.post(url, data={"text": "x", "client_submission_id": "paper-00000001"}).status_code
        == 404
    )
    client.post("/staff/logout")
    login(client, make_staff(session, wall.campaign.organisation, "viewer"))
    assert client.get(url).status_code == 403
    assert stored(session) == []


def _upload(client: FlaskClient, wall_id: int, data: bytes, name: str):
    return client.post(
        f"/staff/walls/{wall_id}/import",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_upload_preview_and_import(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session)
    login(client, make_staff(session, wall.campaign.organisation, "manager"))
    assert client.get(f"/staff/walls/{wall.id}/import").status_code == 200
    response = _upload(client, wall.id, (DATA / "papir_cp1252.csv").read_bytes(), "papir.csv")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-count="rows">8<' in page and 'data-count="import">4<' in page
    assert 'data-count="empty">2<' in page and 'data-count="duplicates">1<' in page
    assert "Række 8: Teksten er en regnearksformel" in page
    assert "Windows-1252" in page
    assert 'value="import"' not in page  # errors block the import until skipped
    token = re.search(r'name="upload" value="([^"]+)"', page).group(1)

    form = {"upload": token, "action": "import", "map_text": "Svar", "map_prompt": "Spørgsmål",
            "map_date": "Dato", "map_area": "Område", "map_role": "Rolle"}  # fmt: skip
    # The import is a job (run at once here: the tests' queue is in immediate mode): the
    # request goes to the job's page, which says why nothing was imported and lists the rows.
    refused = client.post(f"/staff/walls/{wall.id}/import", data=form)
    assert refused.status_code == 303
    job = _job(session, refused.headers["Location"])
    assert job.status is JobStatus.FAILED and job.kind == "import"
    page = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "1 rækker har fejl, så intet er importeret" in page
    assert "Række 8: Teksten er en regnearksformel" in page
    assert stored(session) == []

    # The file went with the job: upload it again and skip the row with errors.
    page = _upload(client, wall.id, (DATA / "papir_cp1252.csv").read_bytes(), "papir.csv")
    token = re.search(r'name="upload" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    form["upload"] = token
    done = client.post(f"/staff/walls/{wall.id}/import", data={**form, "skip_invalid": "y"})
    assert done.status_code == 303
    job = _job(session, done.headers["Location"])
    assert job.status is JobStatus.DONE and job.result is not None
    assert (job.result["imported"], job.result["errors"], job.done, job.total) == (4, 1, 4, 4)
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Importerer svar" in page
    assert "4 svar blev importeret (4 venter på moderation)" in page
    assert "Række 8: Teksten er en regnearksformel" in page  # listed, not silently dropped
    assert f'href="/staff/walls/{wall.id}"' in page  # back to the wall
    assert [a.text for a in stored(session)][:2] == [
        "Flere legepladser med skygge",
        "Bedre cykelstier til skolen, tak",
    ]
    assert len(stored(session)) == 4
    gone = client.post(f"/staff/walls/{wall.id}/import", data={**form, "skip_invalid": "y"})
    assert gone.status_code == 303  # the upload was removed: upload again
    assert gone.headers["Location"].endswith(f"/staff/walls/{wall.id}/import")


def test_mapping_can_be_changed_in_the_preview(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session, prompts=("Hvad savner du?",))
    login(client, make_staff(session, wall.campaign.organisation, "manager"))
    data = "Løbenr;Indhold\nA;Flere bænke\nB;Mere lys\n".encode()
    page = _upload(client, wall.id, data, "x.csv").get_data(as_text=True)
    assert "Vælg den kolonne, der indeholder svarenes tekst." in page
    token = re.search(r'name="upload" value="([^"]+)"', page).group(1)
    preview = client.post(
        f"/staff/walls/{wall.id}/import",
        data={"upload": token, "action": "preview", "map_text": "Indhold"},
    ).get_data(as_text=True)
    assert 'data-count="import">2<' in preview and "Mere lys" in preview


def test_a_large_file_may_exceed_the_general_request_limit(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, prompts=("Hvad savner du?",))
    login(client, make_staff(session, wall.campaign.organisation, "manager"))
    data = ("Svar\n" + "".join(f"Svar nummer {i} om legepladser\n" for i in range(12_000))).encode()
    assert len(data) > 256 * 1024
    response = _upload(client, wall.id, data, "stort.csv")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # Only the first rows are read for the preview; the import job reads them all.
    assert 'data-count="import">200<' in page and "data-preview-partial" in page
    assert "Importér alle svarene" in page


def test_unreadable_upload_is_explained(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session)
    login(client, make_staff(session, wall.campaign.organisation, "manager"))
    response = _upload(client, wall.id, b"\xd0\xcf\x11\xe0 old excel", "svar.xls")
    assert response.status_code == 400
    assert "gammel Excel-fil (.xls)" in response.get_data(as_text=True)


def test_a_zip_bomb_upload_is_refused_in_danish(client: FlaskClient, session: Session) -> None:
    wall = make_wall(session)
    login(client, make_staff(session, wall.campaign.organisation, "manager"))
    started = time.perf_counter()
    # 370 KB (below the size at which the test client spools an upload to a file it leaves open)
    response = _upload(client, wall.id, hostile_files.zip_bomb(rows=600_000), "svar.xlsx")
    assert time.perf_counter() - started < 5
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "XLSX-filen ville fylde mere end 100 MB, når den pakkes ud" in page
    assert not list((Path(client.application.instance_path) / "imports").glob("*.upload"))


def test_a_deeply_nested_json_line_is_a_row_error_in_the_preview(
    client: FlaskClient, session: Session
) -> None:
    wall = make_wall(session, prompts=("Hvad savner du?",))
    login(client, make_staff(session, wall.campaign.organisation, "manager"))
    data = ('{"text": "Mere lys"}\n' + "[" * 100_000 + "\n").encode()
    response = _upload(client, wall.id, data, "svar.jsonl")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Række 2: Linjen har for mange lag inden i hinanden til at være et svar." in page
