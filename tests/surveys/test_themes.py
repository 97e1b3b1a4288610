"""The bridge between stored answers and the theme engine."""

from __future__ import annotations

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import select, update
from sqlalchemy.orm import Session

import surveys.themes as bridge
from surveys import answers, events
from surveys.demo import load_demo
from surveys.errors import InvalidInput
from surveys.models import (
    Answer,
    AnswerStatus,
    Campaign,
    Moderation,
    ThemeAssignment,
    ThemeRun,
)
from surveys.themes import Scope, build_themes, curation_for, resolve_scope
from tests.factories import make_answer, make_wall

TOPICS = {
    "bus": [
        "Bussen til skolen kører alt for sjældent",
        "Flere busser om aftenen, tak",
        "Bussen fra landsbyen holder op kl 18",
        "Gratis bus for unge ville hjælpe meget",
        "Busforbindelsen til byen er elendig",
        "Vi mangler en bus i weekenden",
        "Bussen er altid forsinket om morgenen",
        "Billigere busbilletter til børnefamilier",
    ],
    "legeplads": [
        "Legepladsen ved skolen er slidt og kedelig",
        "Flere legepladser med skygge og bænke",
        "En ny legeplads i parken ville være dejligt",
        "Legepladsen mangler gynger til de små",
        "Legepladsen ved havnen er fantastisk",
        "Ryd op på legepladsen, der ligger glasskår",
        "Naturlegeplads i skoven, tak",
        "Legepladser hvor forældre kan sidde i ly",
    ],
    "normering": [
        "Flere pædagoger i vuggestuen",
        "Normeringen i børnehaven er alt for lav",
        "Pædagogerne løber stærkt, der mangler hænder",
        "Mindre grupper i børnehaven og flere voksne",
        "Vuggestuen har for mange vikarer",
        "Bedre normering så pædagogerne har tid",
        "Flere uddannede pædagoger i dagplejen og vuggestuen",
        "Børnehaven mangler personale om eftermiddagen",
    ],
}


def _wall_with_topics(session: Session):
    wall = make_wall(session, moderation=Moderation.POST)
    ids: dict[str, list[int]] = {}
    for topic, texts in TOPICS.items():
        ids[topic] = [make_answer(session, wall, text).id for text in texts]
    return wall, ids


def _memberships(session: Session, run: ThemeRun) -> dict[int, set[str]]:
    keys = {t.id: t.key for t in run.themes}
    result: dict[int, set[str]] = {}
    for row in session.scalars(select(ThemeAssignment).where(ThemeAssignment.run_id == run.id)):
        result.setdefault(row.answer_id, set()).add(keys[row.theme_id])
    return result


def test_build_stores_themes_that_follow_the_topics(session: Session) -> None:
    wall, ids = _wall_with_topics(session)
    hidden = make_answer(session, wall, "Bussen bussen bussen", status=AnswerStatus.HIDDEN)
    run = build_themes(session, Scope(wall.campaign_id), n_themes=3)
    assert run.n_answers == 24
    assert len(run.themes) == 3
    assert sum(t.size for t in run.themes) >= 20
    members = _memberships(session, run)
    assert hidden.id not in members
    for topic, answer_ids in ids.items():
        primaries = [sorted(members.get(a, {"andet"}))[0] for a in answer_ids]
        most = max(set(primaries), key=primaries.count)
        assert primaries.count(most) >= 6, (topic, primaries)
    for theme in run.themes:
        assert theme.label and theme.terms
        assert 1 <= len(theme.representative_ids) <= 5
        assert set(theme.representative_ids) <= {
            a for a, keys in members.items() if theme.key in keys
        }


def test_rerun_keeps_keys_labels_and_descriptions_staff_wrote(session: Session) -> None:
    wall, _ids = _wall_with_topics(session)
    scope = Scope(wall.campaign_id)
    first = build_themes(session, scope, n_themes=3)
    theme = first.themes[0]
    curation = curation_for(session, scope)
    curation.data = {"renamed": {theme.key: "Busser og transport"}}
    curation.descriptions = {theme.key: "Skrevet af personalet"}
    session.commit()
    make_answer(session, wall, "Flere busser til hallen om aftenen")
    make_answer(session, wall, "Legepladsen i byen trænger til nye gynger")
    second = build_themes(session, scope, n_themes=3)
    assert {t.key for t in second.themes} == {t.key for t in first.themes}
    renamed = next(t for t in second.themes if t.key == theme.key)
    assert renamed.label == "Busser og transport"
    assert renamed.description == "Skrevet af personalet"
    assert second.id != first.id


def _submit(session: Session, wall, number: int):
    return answers.submit_answer(
        session,
        wall,
        prompt_id=wall.prompts[0].id,
        text="Bussen kører for sjældent om aftenen",
        client_submission_id=f"arrival-{number:05d}",
    )


def _rows_of(session: Session, answer_id: int) -> list[ThemeAssignment]:
    return list(
        session.scalars(select(ThemeAssignment).where(ThemeAssignment.answer_id == answer_id))
    )


def test_a_new_answer_is_stored_first_and_placed_under_themes_by_the_queue_task(
    session: Session,
) -> None:
    wall, ids = _wall_with_topics(session)
    run = build_themes(session, Scope(wall.campaign_id), n_themes=3)
    bus_theme = sorted(_memberships(session, run)[ids["bus"][0]])[0]
    sent: list[dict[str, int]] = []

    def receiver(sender: Session, **data: int) -> None:
        sent.append(data)

    with events.answer_stored.connected_to(receiver):
        result = _submit(session, wall, 1)
    # The request stores the answer and announces it; the theme engine does not run in it.
    assert sent == [{"answer_id": result.answer.id, "campaign_id": wall.campaign_id}]
    assert _rows_of(session, result.answer.id) == []
    assert bridge.answers_to_place(session) == [result.answer.id]
    # The queue's task places it, once: a second run (a retried or doubled job) does nothing.
    assert bridge.place_new_answers(session, [result.answer.id]) == 1
    rows = _rows_of(session, result.answer.id)
    assert [r.source for r in rows] and all(r.source == "transform" for r in rows)
    keys = {t.id: t.key for t in run.themes}
    assert keys[rows[0].theme_id] == bus_theme
    assert bridge.place_new_answers(session, [result.answer.id]) == 0
    assert len(_rows_of(session, result.answer.id)) == len(rows)
    assert bridge.answers_to_place(session) == []


def test_placing_leaves_the_answers_a_run_was_fitted_on_as_they_are(session: Session) -> None:
    wall, ids = _wall_with_topics(session)
    run = build_themes(session, Scope(wall.campaign_id), n_themes=3)
    fitted = ids["bus"][0]
    before = {(r.theme_id, r.source) for r in _rows_of(session, fitted)}
    assert before and {source for _theme, source in before} == {"fit"}
    # The run took them in: nothing left to place ...
    assert bridge.answers_to_place(session) == []
    # ... and placing one again (as an old queued task might) keeps its membership.
    session.execute(update(Answer).where(Answer.id == fitted).values(themes_placed_at=None))
    session.commit()
    assert bridge.place_new_answers(session, [fitted]) == 1
    assert {(r.theme_id, r.source) for r in _rows_of(session, fitted)} == before
    assert {r.run_id for r in _rows_of(session, fitted)} == {run.id}


def test_answer_without_runs_is_stored_without_themes(session: Session) -> None:
    wall = make_wall(session)
    result = answers.submit_answer(
        session, wall, prompt_id=wall.prompts[0].id, text="Hej", client_submission_id="norun-0001"
    )
    assert session.get(Answer, result.answer.id) is not None
    assert session.scalars(select(ThemeAssignment)).all() == []
    assert bridge.answers_to_place(session) == []  # nothing to place it under


def test_hidden_answers_are_not_placed(session: Session) -> None:
    wall, _ids = _wall_with_topics(session)
    build_themes(session, Scope(wall.campaign_id), n_themes=3)
    answer = _submit(session, wall, 1).answer
    session.execute(update(Answer).where(Answer.id == answer.id).values(status=AnswerStatus.HIDDEN))
    session.commit()
    assert answer.id not in bridge.answers_to_place(session)
    assert bridge.place_new_answers(session, [answer.id]) == 0
    assert _rows_of(session, answer.id) == []


def test_the_first_run_is_noticed_by_the_next_answer(session: Session) -> None:
    wall, _ids = _wall_with_topics(session)
    assert not bridge.campaign_has_runs(session, wall.campaign_id)
    build_themes(session, Scope(wall.campaign_id), n_themes=3)
    assert bridge.campaign_has_runs(session, wall.campaign_id)


def test_scope_checks_wall_and_prompt_belong_to_campaign(session: Session) -> None:
    wall = make_wall(session)
    other = make_wall(session)
    campaign = session.get(Campaign, wall.campaign_id)
    assert resolve_scope(session, campaign, wall.slug).wall_id == wall.id
    scope = resolve_scope(session, campaign, None, wall.prompts[1].id)
    assert (scope.wall_id, scope.prompt_id) == (wall.id, wall.prompts[1].id)
    with pytest.raises(InvalidInput):
        resolve_scope(session, campaign, other.slug)
    with pytest.raises(InvalidInput):
        resolve_scope(session, campaign, None, other.prompts[0].id)


def test_themes_build_cli_on_demo(runner: FlaskCliRunner, session: Session) -> None:
    load_demo(session)
    result = runner.invoke(args=["themes", "build", "demo", "--wall", "unge-stemmer"])
    assert result.exit_code == 0, result.output
    assert "Theme run 1:" in result.output and "andet:" in result.output
    assert runner.invoke(args=["themes", "build", "nope"]).exit_code != 0
    bad = runner.invoke(args=["themes", "build", "demo", "--themes", "many"])
    assert bad.exit_code != 0


def test_question_words_are_not_theme_labels(session: Session) -> None:
    # The demo wall asks "Hvad er det gode børneliv her?" and "Hvilke tilbud eller tiltag
    # drømmer du om?": answers echo those words, which named themes before.
    load_demo(session)
    campaign = session.scalars(select(Campaign).where(Campaign.slug == "demo")).one()
    run = build_themes(session, Scope(campaign.id))
    terms = {term for theme in run.themes for term in theme.terms}
    assert terms and not {t for t in terms if "børneliv" in t or "tilbud" in t}


@pytest.mark.parametrize("seed", [0, 5])
def test_rerun_on_unchanged_answers_changes_nothing(session: Session, seed: int) -> None:
    # The demo campaign: ~300 answers, many naming two things. The re-run starts from the
    # previous run's k-means clusters (read from the stored run's model), so border cases stay
    # put (with seed 5, starting from the themes' main answers moved some).
    load_demo(session)
    campaign = session.scalars(select(Campaign).where(Campaign.slug == "demo")).one()
    scope = Scope(campaign.id)
    first = build_themes(session, scope, seed=seed)
    second = build_themes(session, scope, seed=seed)
    assert second.id != first.id
    assert _memberships(session, second) == _memberships(session, first)
    assert [(t.key, t.label, t.size) for t in second.themes] == [
        (t.key, t.label, t.size) for t in first.themes
    ]


def test_rerun_after_a_run_whose_model_cannot_be_read(session: Session) -> None:
    # E.g. a run stored by an engine with another model format: the re-run still works,
    # counting every stored member of a theme as its own.
    wall, _ids = _wall_with_topics(session)
    scope = Scope(wall.campaign_id)
    first = build_themes(session, scope, n_themes=3)
    first.model = b"not a model"
    session.commit()
    second = build_themes(session, scope, n_themes=3)
    assert {t.key for t in second.themes} == {t.key for t in first.themes}
    assert sum(t.size for t in second.themes) >= 20


# --- privacy: labels come from approved answers and never show personal data (issue 20) ---


def test_the_label_check_is_case_insensitive() -> None:
    from surveys.themes import public_label, public_terms, shows_personal_data

    for name in ("lone", "LONE", "Lone", "råber · lone", "pædagogen Lone"):
        assert shows_personal_data(name), name
    # Ordinary words, also those that are names too ("sol", "mark"), stay.
    for word in ("legepladsen", "sol", "mark", "bussen kører", "solsikken"):
        assert not shows_personal_data(word), word
    assert public_label("råber · lone · solsikken") == "råber · [fjernet] · solsikken"
    assert public_label("Ring på 22 33 44 55") == "Ring på [fjernet]"
    assert public_terms(["råber", "LONE", "lone råber", "skov"]) == ["råber", "skov"]


def _staff(session: Session, wall):
    from tests.factories import make_staff

    return make_staff(session, wall.campaign.organisation, "moderator")


def test_a_name_in_approved_answers_never_becomes_a_theme_term(session: Session) -> None:
    wall, _ids = _wall_with_topics(session)
    for text in ("Bussen med chaufføren Lone er altid sent", "lone kører bussen for stærkt"):
        for _ in range(4):
            make_answer(session, wall, text)
    run = build_themes(session, Scope(wall.campaign_id), n_themes=3)
    words = " ".join(" ".join([t.label, t.auto_label, *t.terms]) for t in run.themes).lower()
    assert "lone" not in words.split() and "bussen" in words


def test_the_placeholder_of_a_redaction_is_never_a_theme_word(session: Session) -> None:
    wall, _ids = _wall_with_topics(session)
    redacted = [
        make_answer(session, wall, f"[fjernet] siger at bussen er [fjernet] {i}").id
        for i in range(8)
    ]
    run = build_themes(session, Scope(wall.campaign_id), n_themes=3)
    words = " ".join(" ".join([t.label, *t.terms]) for t in run.themes).lower()
    assert "fjernet" not in words
    assert _memberships(session, run).get(redacted[0])  # the answers still have a theme


def test_hiding_an_unrelated_answer_keeps_the_labels(session: Session) -> None:
    from surveys.moderation import set_status

    wall, ids = _wall_with_topics(session)
    run = build_themes(session, Scope(wall.campaign_id), n_themes=3)
    before = [(t.key, t.label, t.terms) for t in run.themes]
    answer = session.get(Answer, ids["bus"][5])  # "Vi mangler en bus i weekenden"
    set_status(session, _staff(session, wall), [answer], AnswerStatus.HIDDEN)
    session.refresh(run)
    assert [(t.key, t.label) for t in run.themes] == [(k, label) for k, label, _t in before]
    assert sum(t.size for t in run.themes) < sum(len(v) for v in ids.values())


def test_relabelling_keeps_the_name_staff_wrote(session: Session) -> None:
    from surveys.moderation import set_status
    from surveys.themes import relabel_run

    wall, ids = _wall_with_topics(session)
    run = build_themes(session, Scope(wall.campaign_id), n_themes=3)
    bus = next(t for t in run.themes if "bus" in t.label)
    bus.label = "Transport til skolen"
    session.commit()
    answers = [session.get(Answer, a) for a in ids["bus"]]
    set_status(session, _staff(session, wall), answers, AnswerStatus.HIDDEN)
    session.refresh(bus)
    assert bus.label == "Transport til skolen"
    assert "bus" not in " ".join([bus.auto_label, *bus.terms]) and bus.size == 0
    relabel_run(session, run)  # again: nothing changes
    assert bus.label == "Transport til skolen"


def test_themes_relabel_cli_renames_a_run_from_approved_answers(
    runner: FlaskCliRunner, session: Session
) -> None:
    wall, _ids = _wall_with_topics(session)
    run = build_themes(session, Scope(wall.campaign_id), n_themes=3)
    # A run as an earlier release left it: a name taken from answers nobody approved.
    leaked = run.themes[0]
    leaked.label = leaked.auto_label = "råber · lone · solsikken"
    leaked.terms = ["råber", "lone", "solsikken"]
    session.commit()

    result = runner.invoke(args=["themes", "relabel"])

    assert result.exit_code == 0, result.output
    assert "1 theme runs named anew" in result.output
    session.expire_all()
    for theme in session.get(ThemeRun, run.id).themes:
        assert "lone" not in theme.label.lower() and "lone" not in theme.terms
