"""The bridge between stored answers and the theme engine."""

from __future__ import annotations

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys import operations
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


def test_new_answer_is_assigned_on_arrival(session: Session) -> None:
    wall, ids = _wall_with_topics(session)
    run = build_themes(session, Scope(wall.campaign_id), n_themes=3)
    bus_theme = sorted(_memberships(session, run)[ids["bus"][0]])[0]
    result = operations.submit_answer(
        session,
        wall,
        prompt_id=wall.prompts[0].id,
        text="Bussen kører for sjældent om aftenen",
        client_submission_id="arrival-00001",
    )
    rows = session.scalars(
        select(ThemeAssignment).where(ThemeAssignment.answer_id == result.answer.id)
    ).all()
    assert [r.source for r in rows] and all(r.source == "transform" for r in rows)
    keys = {t.id: t.key for t in run.themes}
    assert keys[rows[0].theme_id] == bus_theme


def test_answer_without_runs_is_stored_without_themes(session: Session) -> None:
    wall = make_wall(session)
    result = operations.submit_answer(
        session, wall, prompt_id=wall.prompts[0].id, text="Hej", client_submission_id="norun-0001"
    )
    assert session.get(Answer, result.answer.id) is not None
    assert session.scalars(select(ThemeAssignment)).all() == []


def _arrive(session: Session, wall, number: int) -> list[ThemeAssignment]:
    result = operations.submit_answer(
        session,
        wall,
        prompt_id=wall.prompts[0].id,
        text="Bussen kører for sjældent om aftenen",
        client_submission_id=f"arrival-{number:05d}",
    )
    return list(
        session.scalars(
            select(ThemeAssignment).where(ThemeAssignment.answer_id == result.answer.id)
        )
    )


def test_the_first_run_is_noticed_by_the_next_answer(session: Session) -> None:
    wall, _ids = _wall_with_topics(session)
    assert _arrive(session, wall, 1) == []  # no run yet (and that is remembered)
    build_themes(session, Scope(wall.campaign_id), n_themes=3)
    assert _arrive(session, wall, 2) != []  # a run made in this process: noticed at once


def test_a_run_made_elsewhere_is_noticed_within_seconds(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    import surveys.themes as bridge

    wall, _ids = _wall_with_topics(session)
    assert _arrive(session, wall, 1) == []
    build_themes(session, Scope(wall.campaign_id), n_themes=3)
    # As if the run had been made by another process: this one still remembers "no run".
    bridge._WITH_RUNS.clear()
    key = bridge._campaign_key(session, wall.campaign_id)
    bridge._WITHOUT_RUNS[key] = bridge.time.monotonic()
    assert _arrive(session, wall, 2) == []
    monkeypatch.setattr(bridge, "NO_RUN_RECHECK_SECONDS", 0.0)
    assert _arrive(session, wall, 3) != []


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
