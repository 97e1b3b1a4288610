"""``flask answers import`` and ``flask answers import-campaign``."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import answers_cli
from surveys import export
from surveys.models import Answer, AuditEntry, Campaign, Channel, Job, JobStatus, Moderation
from tests.factories import make_answer, make_organisation, make_wall
from tests.surveys import hostile_files

DATA = Path(__file__).parent.parent / "surveys" / "data" / "imports"


def stored(session: Session) -> list[Answer]:
    session.expire_all()
    return list(session.scalars(select(Answer).order_by(Answer.id)))


def test_dry_run_prints_the_counts_and_errors_in_danish(
    runner: FlaskCliRunner, session: Session
) -> None:
    wall = make_wall(session, "paskeaeg")
    args = ["answers", "import", str(DATA / "papir_cp1252.csv"), "--wall", wall.slug, "--dry-run"]
    result = runner.invoke(args=[*args, "--skip-invalid"])
    assert result.exit_code == 0, result.output
    for line in (
        "Filen blev læst som Windows-1252",
        "Kolonnerne er adskilt af semikolon (;).",
        "Svar → text; Spørgsmål → prompt; Dato → date; Rolle → role; Område → area",
        "Rækker: 8",
        "Importeres: 4",
        "Sprunget over som tomme: 2",
        "Sprunget over som dubletter: 1",
        "Rækker med fejl: 1",
        "Række 8: Teksten er en regnearksformel (“=SUM(A1:A3)”), ikke et svar.",
        "Prøvekørsel: intet er gemt.",
    ):
        assert line in result.output
    assert stored(session) == []

    refused = runner.invoke(args=args)
    assert refused.exit_code == 1
    assert "1 rækker har fejl, så intet er importeret." in refused.output


def test_import_with_batch_values(runner: FlaskCliRunner, session: Session, tmp_path: Path) -> None:
    wall = make_wall(session, "klubben", moderation=Moderation.POST)
    path = tmp_path / "sedler.csv"
    path.write_text("Kommentar;Noter\nFlere bordtennisborde;x\nÅben om fredagen;y\n\n")
    result = runner.invoke(
        args=[
            "answers",
            "import",
            str(path),
            "--wall",
            "klubben",
            "--prompt",
            str(wall.prompts[1].id),
            "--channel",
            "event",
            "--place",
            "Ungdomsklubben",
            "--date",
            "2025-05-02",
            "--role",
            "young",
            "--map",
            "text=Kommentar",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Importerede 2 svar." in result.output
    answers = stored(session)
    assert [(a.text, a.channel, a.place, a.written_on, a.role, a.prompt_id) for a in answers] == [
        (
            "Flere bordtennisborde",
            Channel.EVENT,
            "Ungdomsklubben",
            date(2025, 5, 2),
            "young",
            wall.prompts[1].id,
        ),
        (
            "Åben om fredagen",
            Channel.EVENT,
            "Ungdomsklubben",
            date(2025, 5, 2),
            "young",
            wall.prompts[1].id,
        ),
    ]

    again = runner.invoke(
        args=[
            "answers",
            "import",
            str(path),
            "--wall",
            "klubben",
            "--map",
            "text=Kommentar",
            "--prompt",
            str(wall.prompts[1].id),
            "--date",
            "2025-05-02",
        ]
    )
    assert again.exit_code == 0, again.output
    assert "Sprunget over som dubletter: 2" in again.output
    assert len(stored(session)) == 2


def test_xlsx_and_jsonl_from_the_command_line(runner: FlaskCliRunner, session: Session) -> None:
    wall = make_wall(session, "vaeg")
    xlsx = runner.invoke(
        args=["answers", "import", str(DATA / "svar.xlsx"), "--wall", "vaeg", "--skip-invalid"]
    )
    assert xlsx.exit_code == 0, xlsx.output
    assert "Række 6: Kolonne A indeholder en formel uden gemt resultat." in xlsx.output
    assert "1 celler indeholdt formler" in xlsx.output
    jsonl = runner.invoke(
        args=[
            "answers",
            "import",
            str(DATA / "api_answers.jsonl"),
            "--wall",
            "vaeg",
            "--prompt",
            str(wall.prompts[0].id),
        ]
    )
    assert jsonl.exit_code == 0, jsonl.output
    assert "Importerede 3 svar." in jsonl.output
    assert len(stored(session)) == 7


def test_wrong_arguments(runner: FlaskCliRunner, session: Session) -> None:
    make_wall(session, "vaeg")
    path = str(DATA / "papir_cp1252.csv")
    assert runner.invoke(args=["answers", "import", path]).exit_code == 2
    unknown = runner.invoke(args=["answers", "import", path, "--wall", "findes-ikke"])
    assert unknown.exit_code == 1 and "findes-ikke" in unknown.output
    bad_map = runner.invoke(args=["answers", "import", path, "--wall", "vaeg", "--map", "farve=x"])
    assert bad_map.exit_code == 2
    no_column = runner.invoke(
        args=["answers", "import", path, "--wall", "vaeg", "--map", "text=Tekst"]
    )
    assert no_column.exit_code == 1
    assert "Filen har ingen kolonne “Tekst”." in no_column.output


def test_import_campaign_from_an_export(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    organisation = make_organisation(session, "bornholm")
    wall = make_wall(session, organisation=organisation, title="Forældre")
    for text in ("Flere legepladser", "Gode stier", "Gode stier"):
        make_answer(session, wall, text)
    buffer = io.StringIO()
    export.write_csv(session, wall.campaign, buffer)
    path = tmp_path / "eksport.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    result = runner.invoke(
        args=[
            "answers",
            "import-campaign",
            str(path),
            "--slug",
            "boernelivet-2024",
            "--title",
            "Børnelivet 2024",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Oprettede kampagnen boernelivet-2024 med 1 vægge og 3 svar." in result.output
    campaign = session.scalars(select(Campaign).where(Campaign.slug == "boernelivet-2024")).one()
    count = select(func.count()).select_from(Answer).where(Answer.wall_id == campaign.walls[0].id)
    assert session.scalar(count) == 3


def test_hostile_files_are_refused_in_danish(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    wall = make_wall(session)
    bomb = tmp_path / "svar.xlsx"
    bomb.write_bytes(hostile_files.zip_bomb())
    result = runner.invoke(args=["answers", "import", str(bomb), "--wall", wall.slug])
    assert result.exit_code == 1
    assert "XLSX-filen ville fylde mere end 100 MB, når den pakkes ud" in result.output

    huge = tmp_path / "svar.csv"
    huge.write_bytes(b"Svar\n" + b"a" * (30 * 1024 * 1024))
    result = runner.invoke(args=["answers", "import", str(huge), "--wall", wall.slug])
    assert result.exit_code == 1
    assert "Filen er for stor" in result.output
    assert stored(session) == []


class _Terminal(io.StringIO):
    """Standard error as a terminal shows it."""

    def isatty(self) -> bool:
        return True


def test_a_progress_bar_on_a_terminal_and_quiet_elsewhere(
    runner: FlaskCliRunner, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wall = make_wall(session, "legepladser", prompts=("Hvad savner du?",))
    first, second = tmp_path / "svar.csv", tmp_path / "flere.csv"
    first.write_text("Svar\n" + "".join(f"Svar nummer {i}\n" for i in range(600)))
    second.write_text("Svar\n" + "".join(f"Andet svar nummer {i}\n" for i in range(600)))
    quiet = runner.invoke(args=["answers", "import", str(first), "--wall", wall.slug])
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stderr == "" and "Importeres: 600" in quiet.stdout  # not a terminal: no bar

    terminal = _Terminal()
    monkeypatch.setattr(answers_cli, "_progress_stream", lambda: terminal)
    shown = runner.invoke(args=["answers", "import", str(second), "--wall", wall.slug])
    assert shown.exit_code == 0, shown.output
    bar = terminal.getvalue()
    assert "Tjekker rækkerne" in bar and "100%" in bar and "Importeres: 600" in shown.stdout
    assert len(stored(session)) == 1200
    assert "--background" in runner.invoke(args=["answers", "import", "--help"]).output


def test_import_in_the_background(runner: FlaskCliRunner, session: Session, tmp_path: Path) -> None:
    wall = make_wall(session, "baggrund", prompts=("Hvad savner du?",))
    path = tmp_path / "svar.csv"
    path.write_text("Svar\nFlere bænke\nMere lys 💡\n")
    args = ["answers", "import", str(path), "--wall", wall.slug, "--background"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    (job,) = session.scalars(select(Job))
    assert f"Importen kører i baggrunden som job {job.id}" in result.output
    assert f"/staff/jobs/{job.id}" in result.output
    # The tests' queue runs the job at once.
    assert job.status is JobStatus.DONE and job.requested_by_id is None
    assert [a.text for a in stored(session)] == ["Flere bænke", "Mere lys 💡"]
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "answers.import")).one()
    assert audit.actor_email == "cli"
    campaign_slug = wall.campaign.slug
    refused = runner.invoke(
        args=["answers", "import", str(path), "--campaign", campaign_slug, "--background"]
    )
    assert refused.exit_code == 2 and "--background" in refused.output
