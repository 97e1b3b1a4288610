"""CSV export without personal data, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys import export
from surveys.models import AnswerStatus, AuditEntry, Channel, Reaction
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
    session.add(Reaction(answer_id=plain.id, wall_id=plain.wall_id, device_key="some-device-1"))
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


def test_csv_export_is_audited_and_uses_headers(session: Session) -> None:
    wall = make_wall(session)
    make_answer(session, wall)
    analyst = make_staff(session, wall.campaign.organisation, "analyst")
    buffer = io.StringIO()
    headers = {c: c.upper() for c in export.COLUMNS}
    count = export.export_answers(
        session, wall.campaign, buffer, fmt="csv", actor=analyst, headers=headers
    )
    assert count == 1
    assert buffer.getvalue().splitlines()[0] == "\ufeff" + ";".join(headers.values())
    entry = session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.actor_id, entry.after) == (
        "campaign.export",
        analyst.id,
        {"answers": 1, "format": "csv"},
    )


# -- themes, paper columns and XLSX (the report's exports) ---------------------------------------

DANGEROUS = ["=1+1", "+45 22 33", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "＝1+1", "＋1", "－1", "＠A"]


def _theme_run(session: Session, campaign, groups: dict[str, list[int]], labels: dict[str, str]):
    from tests.surveys.test_report import make_run

    return make_run(session, campaign, groups, labels=labels)


def test_export_has_theme_labels_place_and_the_date_on_the_note(session: Session) -> None:
    from datetime import date

    wall = make_wall(session)
    both = make_answer(session, wall, "Busser og legepladser")
    one = make_answer(session, wall, "Kun busser")
    none = make_answer(session, wall, "Intet tema")
    paper = make_answer(
        session,
        wall,
        "Fra en seddel",
        channel=Channel.PAPER,
        place="Ungdomsklubben",
        written_on=date(2026, 9, 30),
    )
    _theme_run(
        session,
        wall.campaign,
        {"leg": [both.id], "bus": [both.id, one.id, paper.id]},
        {"leg": "Legepladser", "bus": "Busser"},
    )
    rows = {int(r["answer"]): r for r in export.export_rows(session, wall.campaign)}
    assert rows[both.id]["themes"] == "Legepladser; Busser"  # in the run's theme order
    assert rows[one.id]["themes"] == "Busser"
    assert rows[none.id]["themes"] == ""
    # A paper note's date is the one written on it; other answers have the day they arrived.
    assert (rows[paper.id]["place"], rows[paper.id]["date"]) == ("Ungdomsklubben", "2026-09-30")
    assert rows[one.id]["date"] == one.created_at.date().isoformat()
    assert rows[one.id]["place"] == "" and rows[paper.id]["channel"] == "paper"


def test_xlsx_cells_are_neutralised_text_never_formulas(session: Session) -> None:
    from openpyxl import load_workbook

    wall = make_wall(session, title="=Væg")
    answers = [make_answer(session, wall, text) for text in DANGEROUS]
    plain = make_answer(session, wall, "Æ Ø Å æ ø å <script>alert(1)</script>", place="=evil()")
    _theme_run(session, wall.campaign, {"t": [answers[0].id]}, {"t": "=Tema"})
    buffer = io.BytesIO()
    headers = {c: c for c in export.COLUMNS} | {"text": "=Svar"}
    assert export.write_xlsx(session, wall.campaign, buffer, headers=headers) == 11
    sheet = load_workbook(io.BytesIO(buffer.getvalue())).active
    assert sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows(values_only=False))
    header = [c.value for c in rows[0]]
    assert header[export.COLUMNS.index("text")] == "'=Svar"
    cells = [c for row in rows for c in row]
    typed = export.NUMBER_COLUMNS + export.DATE_COLUMNS  # numbers and dates (issue 24)
    texts = [c for c in cells if c.row == 1 or export.COLUMNS[c.column - 1] not in typed]
    assert all(c.data_type == "s" for c in texts if c.value is not None)
    assert all(c.data_type != "f" for c in cells)
    for cell in cells:
        if isinstance(cell.value, str):
            assert not cell.value.startswith(export._FORMULA_START), cell.value
    by_id = {int(row[0].value): [c.value for c in row] for row in rows[1:]}
    col = export.COLUMNS.index
    for answer, text in zip(answers, DANGEROUS, strict=True):
        # (XML reads a stored carriage return back as a line feed)
        assert by_id[answer.id][col("text")] == "'" + text.replace("\r", "\n")
    assert by_id[answers[0].id][col("themes")] == "'=Tema"
    assert by_id[answers[0].id][col("wall")] == "'=Væg"
    assert by_id[plain.id][col("text")] == "Æ Ø Å æ ø å <script>alert(1)</script>"
    assert by_id[plain.id][col("place")] == "'=evil()"


def test_csv_keeps_html_as_plain_text_and_neutralises_theme_labels(session: Session) -> None:
    wall = make_wall(session)
    answer = make_answer(session, wall, "<b>fed</b> <script>alert('x')</script>")
    # ("@Tema" would be a social media handle: the guard keeps it out of every label)
    _theme_run(session, wall.campaign, {"t": [answer.id]}, {"t": "+Tema"})
    buffer = io.StringIO()
    export.write_csv(session, wall.campaign, buffer)
    (row,) = _parse(buffer.getvalue())
    assert row["text"] == "<b>fed</b> <script>alert('x')</script>"
    assert row["themes"] == "'+Tema"
    assert "&lt;" not in buffer.getvalue()


def test_xlsx_export_is_audited_and_refuses_other_organisations(session: Session) -> None:
    import pytest

    from surveys.errors import NotFound

    wall = make_wall(session)
    make_answer(session, wall)
    analyst = make_staff(session, wall.campaign.organisation, "analyst")
    stranger = make_staff(session, role="admin")
    with pytest.raises(NotFound):
        export.export_answers(session, wall.campaign, io.BytesIO(), fmt="xlsx", actor=stranger)
    buffer = io.BytesIO()
    assert export.export_answers(session, wall.campaign, buffer, fmt="xlsx", actor=analyst) == 1
    assert buffer.getvalue().startswith(b"PK")
    entry = session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.actor_id, entry.after) == (
        "campaign.export",
        analyst.id,
        {"answers": 1, "format": "xlsx"},
    )


def test_closed_answers_export_their_choice(session: Session) -> None:
    from surveys.models import Moderation
    from tests.factories import add_closed_prompts, submit

    wall = make_wall(session, moderation=Moderation.POST)
    q = add_closed_prompts(session, wall)
    sent = [
        (q["scale"], 4, None),
        (q["single"], "o3", "Vi mødes ved havnen"),
        (q["multiple"], ["o4", "o1"], None),
    ]
    for number, (prompt, value, text) in enumerate(sent):
        submit(
            session,
            wall,
            prompt_id=prompt.id,
            value=value,
            text=text,
            client_submission_id=f"export-closed-{number}",
        )
    buffer = io.StringIO()
    assert export.write_csv(session, wall.campaign, buffer) == 3
    rows = {r["question"]: r for r in _parse(buffer.getvalue())}
    assert (rows[q["scale"].text]["choice"], rows[q["scale"].text]["text"]) == ("4", "")
    assert rows[q["single"].text]["choice"] == "Udenfor"
    assert rows[q["single"].text]["text"] == "Vi mødes ved havnen"
    assert rows[q["multiple"].text]["choice"] == "Skaterbane; Natbus"
