"""CSV export without personal data, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys import export
from surveys.models import AnswerStatus, AuditEntry, Reaction
from tests.factories import make_answer, make_staff, make_wall


def _parse(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))


def test_neutralise_cell() -> None:
    for dangerous in ("=1+1", "+45 22", "-2", "@SUM(A1)", "\tx", "\rx", "＝1"):
        assert export.neutralise_cell(dangerous) == "'" + dangerous
    assert export.neutralise_cell("Flere bænke") == "Flere bænke"
    assert export.neutralise_cell(None) == "" and export.neutralise_cell(3) == "3"


def test_export_has_approved_answers_without_personal_data(session: Session) -> None:
    wall = make_wall(session, title="Forældre")
    plain = make_answer(session, wall, "Flere bænke ved stranden", role="parent")
    make_answer(session, wall, "Endnu ikke godkendt", status=AnswerStatus.PENDING)
    make_answer(session, wall, "Skjult svar", status=AnswerStatus.HIDDEN)
    leaky = make_answer(
        session,
        wall,
        "Skriv til mette@example.dk eller ring 22 33 44 55",
        prompt=wall.prompts[1],
    )
    formula = make_answer(session, wall, '=HYPERLINK("http://evil","klik")')
    session.add(Reaction(answer_id=plain.id, device_key="some-device-1"))
    session.commit()

    buffer = io.StringIO()
    count = export.write_csv(session, wall.campaign, buffer)
    assert count == 3
    rows = _parse(buffer.getvalue())
    assert list(rows[0]) == list(export.COLUMNS)
    by_id = {int(r["answer"]): r for r in rows}
    assert set(by_id) == {plain.id, leaky.id, formula.id}
    assert by_id[leaky.id]["text"] == "Skriv til [fjernet] eller ring [fjernet]"
    assert by_id[leaky.id]["question_number"] == "2"
    assert by_id[formula.id]["text"].startswith("'=")
    assert by_id[plain.id]["agree"] == "1" and by_id[plain.id]["wall"] == "Forældre"
    assert by_id[plain.id]["date"] == plain.created_at.date().isoformat()
    raw = buffer.getvalue()
    for secret in ("mette@example.dk", "22 33 44 55", "factory-", "Endnu ikke", "Skjult"):
        assert secret not in raw


def test_rare_profile_combinations_are_suppressed(session: Session) -> None:
    wall = make_wall(session)
    common = [
        make_answer(session, wall, f"Svar {i}", role="parent", age_group="0-2", area="Rønne")
        for i in range(5)
    ]
    same_role_age = [
        make_answer(session, wall, f"Andet {i}", role="parent", age_group="0-2", area="Nexø")
        for i in range(2)
    ]
    unique = make_answer(session, wall, "Helt alene", role="young", age_group="13-17", area="Hasle")
    rows = {int(r["answer"]): r for r in export.export_rows(session, wall.campaign)}
    assert all(rows[a.id]["area"] == "Rønne" for a in common)
    # Seven parents of 0-2-year-olds in all: the role and age stay, the rare area goes.
    assert all(
        (rows[a.id]["role"], rows[a.id]["age_group"], rows[a.id]["area"]) == ("parent", "0-2", "")
        for a in same_role_age
    )
    assert (rows[unique.id]["role"], rows[unique.id]["age_group"], rows[unique.id]["area"]) == (
        "",
        "",
        "",
    )


def test_export_campaign_is_audited_and_uses_headers(session: Session) -> None:
    wall = make_wall(session)
    make_answer(session, wall)
    analyst = make_staff(session, wall.campaign.organisation, "analyst")
    buffer = io.StringIO()
    headers = {c: c.upper() for c in export.COLUMNS}
    assert export.export_campaign(session, analyst, wall.campaign, buffer, headers=headers) == 1
    assert buffer.getvalue().splitlines()[0] == "\ufeff" + ";".join(headers.values())
    entry = session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.actor_id, entry.after) == (
        "campaign.export",
        analyst.id,
        {"answers": 1, "format": "csv"},
    )
