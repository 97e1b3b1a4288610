"""Importing answers from CSV, XLSX and JSON Lines: preview, duplicates, one transaction."""

from __future__ import annotations

import codecs
import csv
import io
import json
import random
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys import export, imports
from surveys.db import make_engine, make_session_factory
from surveys.errors import Conflict, InvalidInput
from surveys.imports import ColumnMapping, ImportOptions, ImportRefused
from surveys.models import (
    Answer,
    AnswerStatus,
    AuditEntry,
    Campaign,
    Channel,
    Moderation,
    Prompt,
    Wall,
)
from tests.databases import TemplateDatabase
from tests.factories import make_answer, make_organisation, make_wall

DATA = Path(__file__).parent / "data" / "imports"
TODAY = date(2025, 6, 30)


def fixture(name: str) -> imports.Table:
    return imports.read_table((DATA / name).read_bytes(), name)


def answers(session: Session, wall: Wall) -> list[Answer]:
    session.expire_all()
    return list(
        session.scalars(select(Answer).where(Answer.wall_id == wall.id).order_by(Answer.id))
    )


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Answer)) or 0


def csv_table(text: str, encoding: str = "utf-8") -> imports.Table:
    return imports.read_table(text.encode(encoding), "svar.csv")


# -- reading ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected_text", "expected_encoding"),
    [
        (codecs.BOM_UTF8 + "Svar\nRøde æbler".encode(), "Svar\nRøde æbler", "utf-8"),
        ("Svar\nRøde æbler".encode(), "Svar\nRøde æbler", "utf-8"),
        ("Svar\nRøde æbler – 5 €".encode("cp1252"), "Svar\nRøde æbler – 5 €", "windows-1252"),
        ("Svar\tÅ\nø".encode("utf-16"), "Svar\tÅ\nø", "utf-16"),
        (b"Svar\n\x81\xe6", "Svar\n\x81æ", "latin-1"),  # 0x81 is undefined in Windows-1252
    ],
)
def test_decode_tries_bom_then_utf8_then_windows_1252(
    data: bytes, expected_text: str, expected_encoding: str
) -> None:
    assert imports.decode(data) == (expected_text, expected_encoding)


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("Svar;Dato\nEn, to og tre;24-05-2025\nFire;24-05-2025\n", ";"),
        ("text,date\nOne; two,2025-05-24\nThree,2025-05-24\n", ","),
        ("Svar\tDato\nEn, to; tre\t24-05-2025\n", "\t"),
        ("Svar\nEn\nTo\n", ";"),
    ],
)
def test_delimiter_is_sniffed(text: str, delimiter: str) -> None:
    assert imports.sniff_delimiter(text) == delimiter


def test_windows_1252_semicolon_file_with_danish_headers() -> None:
    table = fixture("papir_cp1252.csv")
    assert table.format == "csv"
    assert table.encoding == "windows-1252"
    assert table.delimiter == ";"
    assert table.columns == ["Svar", "Spørgsmål", "Dato", "Område", "Rolle"]
    assert table.rows[1].cells[0] == "Flere legepladser med skygge"
    assert table.rows[5].cells[0] == "Store æbletræer og grønne områder"
    notices = [n.render() for n in table.notices]
    assert any("Windows-1252" in n for n in notices)
    assert imports.suggest_mapping(table.columns) == ColumnMapping(
        text="Svar", prompt="Spørgsmål", date="Dato", area="Område", role="Rolle"
    )


def test_header_suggestions_know_the_export_and_the_api() -> None:
    danish_export = [
        "Svar nr.",
        "Væg",
        "Spørgsmål nr.",
        "Spørgsmål",
        "Svar",
        "Dato",
        "Kanal",
        "Sprog",
        "Rolle",
        "Aldersgruppe",
        "Område",
        "Enig",
    ]
    assert imports.suggest_mapping(danish_export) == ColumnMapping(
        text="Svar",
        prompt="Spørgsmål",
        prompt_number="Spørgsmål nr.",
        date="Dato",
        channel="Kanal",
        role="Rolle",
        age_group="Aldersgruppe",
        area="Område",
        language="Sprog",
        wall="Væg",
    )
    assert imports.suggest_mapping(list(export.COLUMNS)).text == "text"
    assert imports.suggest_mapping(list(export.COLUMNS)).prompt == "question"
    assert imports.suggest_mapping(["Noter"]).text == "Noter"  # a single column is the text
    assert imports.suggest_mapping(["Noter", "Andet"]).text is None


def test_garbled_letters_are_pointed_out() -> None:
    table = csv_table("Svar\nGrÃ¸nne omrÃ¥der\n")
    assert any("Ã¸" in n.render() for n in table.notices)


def test_old_excel_and_binary_files_are_explained() -> None:
    with pytest.raises(InvalidInput) as old:
        imports.read_table(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "svar.xls")
    assert old.value.code == "old_excel"
    with pytest.raises(InvalidInput) as broken:
        imports.read_table(b"PK\x03\x04 not really a zip", "svar.xlsx")
    assert broken.value.code == "unreadable_xlsx"
    with pytest.raises(InvalidInput) as empty:
        imports.read_table(b"\n\n", "svar.csv")
    assert empty.value.code == "empty_file"


def test_csv_row_with_too_many_cells_is_an_error() -> None:
    table = csv_table("Svar;Dato\nEn; to; tre;24-05-2025\nFire;24-05-2025\n")
    assert table.rows[0].problem is not None
    assert "2 columns" in table.rows[0].problem.render()
    assert table.rows[1].problem is None


# -- planning and importing -------------------------------------------------------------------


def test_cp1252_file_preview_counts_and_errors(session: Session) -> None:
    wall = make_wall(session)
    plan = imports.plan_import(
        session,
        wall,
        fixture("papir_cp1252.csv"),
        imports.suggest_mapping(fixture("papir_cp1252.csv").columns),
        ImportOptions(today=TODAY),
    )
    assert plan.rows == 8
    assert plan.empty == 2  # the blank line and the ";;;;" line
    assert plan.duplicates == 1  # "flere legepladser med  skygge" again, other case and spacing
    assert [(e.row, e.message) for e in plan.errors] == [
        (
            8,
            "The text is a spreadsheet formula (%(value)s), not an answer. Save the file with "
            "values instead of formulas.",
        ),
    ]
    assert plan.to_import == 4
    assert count(session) == 0  # a preview writes nothing


def test_rows_with_errors_refuse_the_whole_file(session: Session) -> None:
    wall = make_wall(session)
    table = fixture("papir_cp1252.csv")
    with pytest.raises(ImportRefused) as refused:
        imports.import_answers(
            session, wall, table, imports.suggest_mapping(table.columns), ImportOptions(today=TODAY)
        )
    assert refused.value.plan.to_import == 4
    assert refused.value.params == {"count": 1}
    assert count(session) == 0


def test_cp1252_file_imports_the_valid_rows_when_asked(session: Session) -> None:
    wall = make_wall(session, moderation=Moderation.POST)
    table = fixture("papir_cp1252.csv")
    options = ImportOptions(today=TODAY, skip_invalid=True, place="Børnefestivalen")
    plan = imports.import_answers(
        session, wall, table, imports.suggest_mapping(table.columns), options
    )
    assert plan.to_import == 4
    stored = answers(session, wall)
    prompts = {p.id: p.text for p in wall.prompts}
    assert [(a.text, prompts[a.prompt_id], a.area, a.role) for a in stored] == [
        ("Flere legepladser med skygge", "Hvad er det gode børneliv her?", "Rønne", "parent"),
        ("Bedre cykelstier til skolen, tak", "Hvad mangler der?", "Nexø", None),
        ("Mere tid til leg; mindre skærm", "Hvad mangler der?", None, "young"),
        ("Store æbletræer og grønne områder", "Hvad er det gode børneliv her?", None, None),
    ]
    first = stored[0]
    assert first.channel is Channel.PAPER
    assert first.place == "Børnefestivalen"
    assert first.written_on == date(2025, 5, 24)
    assert first.created_at == datetime(2025, 5, 24, 10, 0, tzinfo=UTC)  # noon in Copenhagen
    assert first.status is AnswerStatus.APPROVED  # post-moderated wall, nothing flagged
    assert first.language == "da"
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "answers.import")).one()
    assert entry.after == {**plan.counts(), "format": "csv"}


def test_utf8_bom_comma_file_with_question_numbers_and_channels(session: Session) -> None:
    wall = make_wall(session)
    table = fixture("svar_utf8_bom.csv")
    mapping = imports.suggest_mapping(table.columns)
    imports.import_answers(session, wall, table, mapping, ImportOptions(today=TODAY))
    stored = answers(session, wall)
    assert [(a.text, a.prompt_id, a.channel, a.place) for a in stored] == [
        ("Flere bænke, tak", wall.prompts[0].id, Channel.PAPER, "Folkemødet"),
        ("Mindre trafik ved skolen 🚗", wall.prompts[1].id, Channel.EVENT, None),
    ]
    assert all(a.status is AnswerStatus.PENDING for a in stored)  # pre-moderated wall


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-16", "\t"), ("utf-8", "\t"), ("cp1252", ","), ("utf-8-sig", ";")],
)
def test_encodings_and_delimiters_give_the_same_answers(
    session: Session, encoding: str, delimiter: str
) -> None:
    wall = make_wall(session, prompts=("Hvad savner du?",))
    rows = [
        ["Svar", "Dato"],
        ["Grønne områder, tak", "01-05-2025"],
        ["Åben skolegård", "02-05-2025"],
    ]
    text = "\r\n".join(
        delimiter.join(f'"{c}"' if delimiter in c or "," in c else c for c in row) for row in rows
    )
    table = imports.read_table(text.encode(encoding), "svar.csv")
    assert table.delimiter == delimiter
    imports.import_answers(session, wall, table, imports.suggest_mapping(table.columns))
    assert [(a.text, a.written_on) for a in answers(session, wall)] == [
        ("Grønne områder, tak", date(2025, 5, 1)),
        ("Åben skolegård", date(2025, 5, 2)),
    ]


def test_xlsx_values_formulas_blank_rows_and_labels(session: Session) -> None:
    wall = make_wall(session)
    table = fixture("svar.xlsx")
    assert table.format == "xlsx"
    notices = [n.render() for n in table.notices]
    assert "1 cells held formulas: the values Excel calculated were used." in notices
    assert "Only the first sheet (Svar) was read; the file has 2 sheets." in notices
    mapping = imports.suggest_mapping(table.columns)
    plan = imports.plan_import(session, wall, table, mapping, ImportOptions(today=TODAY))
    assert (plan.rows, plan.empty, plan.duplicates, plan.to_import) == (7, 2, 0, 4)
    assert [e.row for e in plan.errors] == [6]
    assert "formula without a saved result" in plan.errors[0].render()
    imports.import_answers(
        session, wall, table, mapping, ImportOptions(today=TODAY, skip_invalid=True)
    )
    stored = answers(session, wall)
    assert [(a.text, a.role, a.area, a.written_on) for a in stored] == [
        ("Flere bænke på legepladsen", "parent", "Rønne", date(2025, 5, 3)),
        ("Mere tid med mine børn", "young", None, date(2025, 5, 3)),
        ("Gratis svømning", None, None, date(2025, 5, 3)),
        ("Børnehaven er god", None, "Nexø", date(2025, 5, 3)),
    ]


def test_jsonl_in_the_api_answer_format(session: Session) -> None:
    wall = make_wall(session, moderation=Moderation.POST)
    table = fixture("api_answers.jsonl")
    mapping = imports.suggest_mapping(table.columns)
    options = ImportOptions(prompt_id=wall.prompts[1].id, today=TODAY)
    plan = imports.import_answers(session, wall, table, mapping, options)
    assert (plan.rows, plan.empty, plan.to_import) == (4, 1, 3)
    stored = answers(session, wall)
    assert [
        (a.text, a.channel, a.client_submission_id.split("-")[0], a.written_on) for a in stored
    ] == [
        ("Flere aktiviteter for unge om aftenen", Channel.EVENT, "tablet", None),
        ("Et sted at være efter skole", Channel.API, "tablet", date(2025, 6, 1)),
        ("Flere trænere i klubben", Channel.API, "imp", date(2025, 6, 2)),
    ]
    assert stored[0].profile == {"role": "young", "age_group": "13-17"}
    assert {a.prompt_id for a in stored} == {wall.prompts[1].id}
    # Importing the same file again finds every answer already stored.
    again = imports.plan_import(session, wall, table, mapping, options)
    assert (again.to_import, again.duplicates) == (0, 3)
    assert (
        imports.plan_import(
            session,
            wall,
            table,
            mapping,
            ImportOptions(prompt_id=wall.prompts[1].id, keep_duplicates=True, today=TODAY),
        ).to_import
        == 0
    )  # the submission ids still say "already imported"


def test_jsonl_lines_that_are_not_answers() -> None:
    table = imports.read_table(
        b'{"text": "ok"}\nnot json\n[1, 2]\n{"text": "x", "colour": "red"}\n{"text": 5}\n',
        "svar.jsonl",
    )
    assert [r.problem.message if r.problem else None for r in table.rows] == [
        None,
        "The line is not valid JSON: %(error)s",
        "The line must be a JSON object.",
        "Unknown field: %(field)s.",
        "The answer must be text.",
    ]


def test_duplicates_of_stored_answers_on_the_same_wall_and_day(session: Session) -> None:
    wall = make_wall(session, prompts=("Hvad savner du?",))
    other = make_wall(session, prompts=("Hvad savner du?",))
    make_answer(session, wall, "Flere  BÆNKE", created_at=datetime(2025, 5, 1, 22, 30, tzinfo=UTC))
    make_answer(
        session,
        wall,
        "Mere lys",
        written_on=date(2025, 5, 3),
        created_at=datetime(2025, 6, 1, tzinfo=UTC),
        channel=Channel.PAPER,
    )
    make_answer(session, other, "Grønne områder", created_at=datetime(2025, 5, 1, tzinfo=UTC))
    table = csv_table(
        "Svar;Dato\n"
        "flere bænke;02-05-2025\n"  # 22:30 UTC on 1 May is 2 May in Copenhagen: a duplicate
        "Flere bænke;01-05-2025\n"  # another day: not a duplicate
        "mere lys;03-05-2025\n"  # same written-on date: a duplicate
        "Grønne områder;01-05-2025\n"  # only on the other wall: not a duplicate
    )
    mapping = imports.suggest_mapping(table.columns)
    plan = imports.plan_import(session, wall, table, mapping, ImportOptions(today=TODAY))
    assert plan.duplicates == 2
    assert [a.row for a in plan.answers] == [3, 5]
    keep = imports.plan_import(
        session, wall, table, mapping, ImportOptions(today=TODAY, keep_duplicates=True)
    )
    assert (keep.duplicates, keep.to_import) == (0, 4)


def test_rows_without_a_date_count_as_today(session: Session) -> None:
    wall = make_wall(session, prompts=("Hvad savner du?",))
    make_answer(session, wall, "Flere bænke")  # created now
    table = csv_table("Svar\nFlere bænke\nMere lys\n")
    plan = imports.plan_import(session, wall, table, ColumnMapping(text="Svar"))
    assert (plan.duplicates, plan.to_import) == (1, 1)
    assert plan.answers[0].values["written_on"] is None


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("Tekst;Spørgsmål om noget andet;;;", "The question %(value)s is not on this wall."),
        (
            "Tekst;;31-02-2025;;",
            "%(value)s is not a date. Write dates as 24-11-2025 or 2025-11-24.",
        ),
        ("Tekst;;01-07-2025;;", "The date %(value)s is in the future."),
        ("Tekst;;;brevdue;", "%(value)s is not a channel. Use paper, web, kiosk, event or api."),
        ("Tekst;;;;Aakirkeby", "%(value)s is not one of the wall's areas."),
        (";;24-05-2025;;", None),  # empty: skipped, not an error
        (
            "x" * 1001 + ";;;;",
            "The answer is too long: at most %(max)d characters, this one has %(length)d.",
        ),
    ],
)
def test_row_errors(session: Session, row: str, message: str | None) -> None:
    wall = make_wall(session)
    table = csv_table("Svar;Spørgsmål;Dato;Kanal;Område\n" + row + "\n")
    plan = imports.plan_import(
        session,
        wall,
        table,
        imports.suggest_mapping(table.columns),
        ImportOptions(prompt_id=wall.prompts[0].id, today=TODAY),
    )
    assert [e.message for e in plan.errors] == ([message] if message else [])
    assert all(e.row == 2 for e in plan.errors)


def test_profile_values_the_wall_does_not_ask_for(session: Session) -> None:
    wall = make_wall(session, profile_questions=["role"], prompts=("Hvad savner du?",))
    table = csv_table("Svar;Område;Rolle\nTekst;Rønne;\nTekst to;;Fagperson\n")
    plan = imports.plan_import(session, wall, table, imports.suggest_mapping(table.columns))
    assert [(e.row, e.message) for e in plan.errors] == [
        (2, "This wall does not ask about the area, so %(value)s cannot be stored.")
    ]
    assert plan.answers[0].values["role"] == "professional"
    with pytest.raises(InvalidInput) as batch:
        imports.plan_import(
            session,
            wall,
            table,
            ColumnMapping(text="Svar"),
            ImportOptions(profile={"area": "Rønne"}),
        )
    assert batch.value.code == "invalid_batch"


def test_personal_data_holds_imported_answers_for_moderation(session: Session) -> None:
    wall = make_wall(session, moderation=Moderation.POST, prompts=("Hvad savner du?",))
    table = csv_table("Svar\nRing til mig på 22 33 44 55\nFlere bænke\n")
    plan = imports.import_answers(session, wall, table, ColumnMapping(text="Svar"))
    assert (plan.held, plan.flagged) == (1, 1)
    flagged, clean = answers(session, wall)
    assert flagged.status is AnswerStatus.PENDING
    assert flagged.pii_findings and flagged.pii_findings[0]["kind"] == "phone"
    assert clean.status is AnswerStatus.APPROVED


def test_a_wall_with_several_questions_needs_one(session: Session) -> None:
    wall = make_wall(session)
    plan = imports.plan_import(
        session, wall, csv_table("Svar\nTekst\n"), ColumnMapping(text="Svar")
    )
    assert plan.errors[0].message.startswith("The row does not say which question")
    with pytest.raises(InvalidInput):
        imports.plan_import(session, wall, csv_table("Svar\nTekst\n"), ColumnMapping())
    with pytest.raises(InvalidInput):
        imports.plan_import(
            session,
            wall,
            csv_table("Svar\nTekst\n"),
            ColumnMapping(text="Svar"),
            ImportOptions(prompt_id=10_000),
        )


def test_nothing_is_half_imported_when_the_database_refuses(
    session: Session, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    wall = make_wall(session, prompts=("Hvad savner du?",))
    table = csv_table("Svar\nEt\nTo\nTre\n")
    real_plan = imports.plan_import

    def plan_then_race(*args: object, **kwargs: object) -> imports.ImportPlan:
        plan = real_plan(*args, **kwargs)  # type: ignore[arg-type]
        # Someone else stores the last row's submission id between the preview and the insert.
        engine = make_engine(database_url)
        with make_session_factory(engine)() as other:
            make_answer(
                other,
                other.get(Wall, wall.id),
                "Tre",
                client_submission_id=plan.answers[-1].values["client_submission_id"],
            )
        engine.dispose()
        return plan

    monkeypatch.setattr(imports.writing, "plan_import", plan_then_race)
    with pytest.raises(Conflict):
        imports.import_answers(session, wall, table, ColumnMapping(text="Svar"))
    assert [a.text for a in answers(session, wall)] == ["Tre"]  # only the other one's answer
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_campaign_import_routes_rows_by_wall(session: Session) -> None:
    parents = make_wall(session, prompts=("Hvad savner du?",))
    young = make_wall(session, campaign=parents.campaign, prompts=("Hvad savner du?",))
    table = csv_table(f"Væg;Svar\n{parents.title};Til forældre\n{young.slug};Til unge\nUkendt;X\n")
    plan = imports.plan_import(
        session, parents.campaign, table, imports.suggest_mapping(table.columns)
    )
    assert [(a.values["wall_id"], a.values["text"]) for a in plan.answers] == [
        (parents.id, "Til forældre"),
        (young.id, "Til unge"),
    ]
    assert [e.message for e in plan.errors] == ["The wall %(value)s is not in this campaign."]
    with pytest.raises(InvalidInput):
        imports.plan_import(session, parents.campaign, table, ColumnMapping(text="Svar"))


def test_parse_date_and_slugify() -> None:
    assert imports.parse_date("24-11-2024", TODAY) == date(2024, 11, 24)
    assert imports.parse_date("3.5.2025", TODAY) == date(2025, 5, 3)
    assert imports.parse_date("2025-05-03T23:30:00+00:00", TODAY) == date(2025, 5, 4)
    assert imports.slugify("Unge stemmer på Bornholm 2025") == "unge-stemmer-paa-bornholm-2025"
    assert imports.slugify("!!!") == "vaeg"


# -- a whole earlier campaign -----------------------------------------------------------------


def _earlier_campaign(session: Session) -> Campaign:
    organisation = make_organisation(session)
    parents = make_wall(
        session, organisation=organisation, title="Forældre", moderation=Moderation.POST
    )
    campaign = parents.campaign
    young = make_wall(session, campaign=campaign, title="Unge", prompts=("Hvad gør dig glad?",))
    day = datetime(2025, 5, 3, 9, 0, tzinfo=UTC)
    for i in range(6):  # a group large enough to keep its profile values in the export
        make_answer(
            session,
            parents,
            f"Flere legepladser {i}",
            role="parent",
            age_group="3-5",
            area="Rønne",
            created_at=day + timedelta(minutes=i),
        )
    make_answer(
        session,
        parents,
        "-mindre trafik",
        prompt=parents.prompts[1],
        role="expecting",
        created_at=day,
    )
    make_answer(session, parents, "=SUM(A1:A2) er sjovt", created_at=day, channel=Channel.KIOSK)
    make_answer(session, parents, "Ved ikke", created_at=day)
    make_answer(session, parents, "ved ikke", created_at=day)  # identical answers on one day
    make_answer(session, parents, "Skjult", status=AnswerStatus.HIDDEN, created_at=day)
    make_answer(
        session, young, "Fodbold og venner", created_at=day, channel=Channel.PAPER, language="da"
    )
    make_answer(session, young, "Min telefon er 22 33 44 55", created_at=day)  # redacted on export
    return campaign


def _export(session: Session, campaign: Campaign, headers: dict[str, str] | None = None) -> str:
    stream = io.StringIO()
    export.write_csv(session, campaign, stream, headers=headers)
    return stream.getvalue()


def _comparable(csv_text: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(csv_text.lstrip("\ufeff"), newline=""), delimiter=";")
    rows = [dict(zip(export.COLUMNS, r, strict=True)) for r in list(reader)[1:]]
    for row in rows:
        del row["answer"], row["agree"]  # new ids; reactions are per device, not exported
    return rows


@pytest.mark.parametrize("danish", [False, True])
def test_round_trip_export_then_import_into_an_empty_database(
    session: Session, template_db: TemplateDatabase, tmp_path: Path, danish: bool
) -> None:
    campaign = _earlier_campaign(session)
    headers = (
        {
            "answer": "Svar nr.",
            "wall": "Væg",
            "question_number": "Spørgsmål nr.",
            "question": "Spørgsmål",
            "text": "Svar",
            "date": "Dato",
            "channel": "Kanal",
            "language": "Sprog",
            "role": "Rolle",
            "age_group": "Aldersgruppe",
            "area": "Område",
            "agree": "Enig",
        }
        if danish
        else None
    )
    exported = _export(session, campaign, headers)
    original = _comparable(exported)
    assert len(original) == 12  # the hidden answer is not exported
    (tmp_path / "empty").mkdir()
    with template_db.fresh(tmp_path / "empty") as url:
        engine = make_engine(url)
        with make_session_factory(engine)() as empty:
            organisation = make_organisation(empty)
            table = imports.read_table(exported.encode("utf-8-sig"), "export.csv")
            new, plan = imports.import_campaign(
                empty,
                organisation,
                table,
                imports.suggest_mapping(table.columns),
                slug="boernelivet-2025",
                title="Børnelivet 2025",
            )
            assert (plan.to_import, plan.duplicates, plan.errors) == (12, 0, [])
            assert [w.title for w in new.walls] == ["Forældre", "Unge"]
            assert [p.text for p in new.walls[0].prompts] == [
                p.text for p in campaign.walls[0].prompts
            ]
            assert _comparable(_export(empty, new, headers)) == original
            per_wall = (
                select(Wall.title, func.count(Answer.id)).join(Answer.wall).group_by(Wall.title)
            )
            counts = {title: n for title, n in empty.execute(per_wall)}
            assert counts == {"Forældre": 10, "Unge": 2}
            # Importing the same export again creates nothing twice.
            with pytest.raises(Conflict):
                imports.import_campaign(
                    empty,
                    organisation,
                    table,
                    imports.suggest_mapping(table.columns),
                    slug="boernelivet-2025",
                    title="Igen",
                )
            assert empty.scalar(select(func.count()).select_from(Campaign)) == 1
        engine.dispose()


def test_campaign_import_is_one_transaction(session: Session) -> None:
    organisation = make_organisation(session)
    table = csv_table("Væg;Spørgsmål;Svar;Dato\nUnge;Hvad?;Fint;01-05-2025\nUnge;Hvad?;Godt;xx\n")
    with pytest.raises(ImportRefused):
        imports.import_campaign(
            session,
            organisation,
            table,
            imports.suggest_mapping(table.columns),
            slug="gammel",
            title="Gammel",
        )
    assert session.scalar(select(func.count()).select_from(Campaign)) == 0
    assert session.scalar(select(func.count()).select_from(Prompt)) == 0


# -- speed ------------------------------------------------------------------------------------

WORDS = [
    "flere",
    "legepladser",
    "med",
    "skygge",
    "bedre",
    "cykelstier",
    "til",
    "skolen",
    "mere",
    "tid",
    "sammen",
    "med",
    "børnene",
    "grønne",
    "områder",
    "billigere",
    "svømmehal",
    "åbne",
    "klubber",
    "om",
    "aftenen",
    "trygge",
    "veje",
    "lys",
    "i",
    "parken",
]


@pytest.mark.slow  # about 20 s on 2 cores, most of it the personal-data guard
def test_fifty_thousand_rows_import_in_under_a_minute(session: Session, tmp_path: Path) -> None:
    wall = make_wall(session, moderation=Moderation.POST)
    rng = random.Random(8)
    path = tmp_path / "stort.csv"
    lines = ["Svar;Spørgsmål nr.;Dato;Område"]
    for i in range(50_000):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 20)))
        lines.append(
            f"{text.capitalize()} ({i});{1 + i % 2};{1 + i % 28:02d}-05-2025;"
            f"{'Rønne' if i % 3 else ''}"
        )
    path.write_bytes("\r\n".join(lines).encode("cp1252"))
    started = time.perf_counter()
    table = imports.read_table(path.read_bytes(), path.name)
    plan = imports.import_answers(session, wall, table, imports.suggest_mapping(table.columns))
    elapsed = time.perf_counter() - started
    print(f"\n50,000-row import: {elapsed:.1f} s")
    assert plan.to_import == 50_000
    assert session.scalar(select(func.count()).where(Answer.wall_id == wall.id)) == 50_000
    assert elapsed < 60


def test_the_jsonl_fixture_is_the_api_post_body() -> None:
    """Each line is what POST /api/v1/walls/<slug>/answers takes (plus created_at / id)."""
    allowed = {
        "prompt_id",
        "text",
        "client_submission_id",
        "channel",
        "profile",
        "created_at",
        "id",
        "agree_count",
    }
    for line in (DATA / "api_answers.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            assert set(json.loads(line)) <= allowed


def test_round_trip_keeps_closed_questions_and_the_round(session: Session) -> None:
    """An export with closed questions and a round, imported as the earlier round of this
    year's campaign: the same questions and choices come back, and the rounds compare."""
    from surveys import rounds
    from surveys.models import Moderation, PromptKind
    from tests.factories import add_closed_prompts, submit

    wall = make_wall(session, "lukket-eksport", moderation=Moderation.POST)
    q = add_closed_prompts(session, wall)
    wall.campaign.round_label = "Forår 2025"
    session.commit()
    sent = [
        (q["scale"], 4, "Fordi her er trygt"),
        (q["scale"], 2, None),
        (q["single"], "o2", None),
        (q["multiple"], ["o1", "o4"], None),
        (q["multiple"], ["o2"], "Mere musik"),
    ]
    for number, (prompt, value, text) in enumerate(sent):
        submit(
            session,
            wall,
            prompt_id=prompt.id,
            value=value,
            text=text,
            client_submission_id=f"lukket-eksport-{number}",
        )
    exported = _export(session, wall.campaign)
    this_year = make_wall(session, "i-aar").campaign
    table = imports.read_table(exported.encode("utf-8-sig"), "export.csv")
    mapping = imports.suggest_mapping(table.columns)
    assert (mapping.choice, mapping.round) == ("choice", "round")
    new, plan = imports.import_campaign(
        session,
        this_year.organisation,
        table,
        mapping,
        slug="lukket-2025",
        title="Lukket 2025",
        next_round=this_year,
    )
    assert (plan.to_import, plan.errors) == (5, [])
    assert new.round_label == "Forår 2025"
    assert this_year.previous_round_id == new.id
    kinds = {p.text: p.kind for p in new.walls[0].prompts}
    assert kinds[q["scale"].text] is PromptKind.SCALE
    assert kinds[q["single"].text] is PromptKind.SINGLE
    assert kinds[q["multiple"].text] is PromptKind.MULTIPLE

    # (questions nobody answered are not in an export, so the numbers start at 1 again)
    def unnumbered(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        return [{k: v for k, v in row.items() if k != "question_number"} for row in rows]

    assert unnumbered(_comparable(_export(session, new))) == unnumbered(_comparable(exported))
    assert rounds.rounds_of(session, this_year) == [new]
    # a choice that is not one of the question's options is a row error, not a crash
    bad = csv_table(f"Væg;Spørgsmål;Valg;Svar\n{new.walls[0].title};{q['single'].text};Månen;\n")
    plan = imports.plan_import(
        session, new, bad, imports.suggest_mapping(bad.columns), ImportOptions()
    )
    assert plan.to_import == 0 and "Månen" in plan.errors[0].render()
