"""Theme review: the explorer's read models and staff curation, kept across re-runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys import theme_review as review
from surveys.errors import InvalidInput, NotFound
from surveys.filters import AnswerFilter
from surveys.insights import theme_counts
from surveys.models import (
    Answer,
    AnswerStatus,
    Audience,
    AuditEntry,
    Moderation,
    StaffUser,
    ThemeAssignment,
    ThemeCuration,
    ThemeRun,
    Wall,
    utcnow,
)
from surveys.themes import Scope, assign_answer, latest_run
from tests.factories import make_answer, make_staff, make_wall
from tests.surveys.test_themes import TOPICS as BASE_TOPICS

TOPICS = {
    **BASE_TOPICS,
    "skaerm": [
        "Mindre skærmtid for de små børn",
        "Mobilfri skole hele dagen",
        "Forældre skal lægge mobilen væk",
        "Skærmene fylder alt for meget derhjemme",
        "For meget tid på mobilen og tiktok",
        "Mobilen tager tiden fra leg",
        "Regler for skærmtid i klubben",
        "Færre skærme i børnehaven",
    ],
}


@dataclass
class World:
    wall: Wall
    scope: Scope
    ids: dict[str, list[int]]
    analyst: StaffUser
    run: ThemeRun

    def key_of(self, session: Session, topic: str, run: ThemeRun | None = None) -> str:
        """The theme most of the topic's answers are in."""
        members = memberships(session, run or self.run)
        keys = [k for a in self.ids[topic] for k in members.get(a, set())]
        return max(set(keys), key=keys.count)


def memberships(session: Session, run: ThemeRun) -> dict[int, set[str]]:
    """answer id -> theme keys in the run."""
    session.expire_all()
    run = session.get(ThemeRun, run.id)
    keys = {t.id: t.key for t in run.themes}
    out: dict[int, set[str]] = {}
    for row in session.scalars(select(ThemeAssignment).where(ThemeAssignment.run_id == run.id)):
        out.setdefault(row.answer_id, set()).add(keys[row.theme_id])
    return out


def sources(session: Session, run: ThemeRun, answer_id: int) -> set[str]:
    return set(
        session.scalars(
            select(ThemeAssignment.source).where(
                ThemeAssignment.run_id == run.id, ThemeAssignment.answer_id == answer_id
            )
        )
    )


def theme(session: Session, run: ThemeRun, key: str):
    session.expire_all()
    run = session.get(ThemeRun, run.id)
    return next((t for t in run.themes if t.key == key), None)


def audit_actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


@pytest.fixture
def world(session: Session) -> World:
    wall = make_wall(session, moderation=Moderation.POST)
    ids = {
        topic: [make_answer(session, wall, text).id for text in texts]
        for topic, texts in TOPICS.items()
    }
    analyst = make_staff(session, wall.campaign.organisation, "analyst")
    scope = Scope(wall.campaign_id)
    run = review.run_themes(session, analyst, scope)
    return World(wall, scope, ids, analyst, run)


# --------------------------------------------------------------------------- running


def test_run_builds_themes_that_follow_the_topics_and_is_audited(
    session: Session, world: World
) -> None:
    assert len(world.run.themes) == 4
    members = memberships(session, world.run)
    for topic in TOPICS:
        key = world.key_of(session, topic)
        assert sum(key in members.get(a, set()) for a in world.ids[topic]) >= 7, topic
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "theme.run")).one()
    assert entry.actor_id == world.analyst.id and entry.target_id == world.run.id
    assert entry.after == {"scope": world.scope.key, "answers": 32, "themes": 4}


def test_run_refuses_a_scope_with_too_few_answers(session: Session) -> None:
    wall = make_wall(session)
    for n in range(review.MIN_ANSWERS - 1):
        make_answer(session, wall, f"Svar nummer {n} om legepladsen")
    make_answer(session, wall, "Skjult svar", status=AnswerStatus.HIDDEN)  # never counted
    analyst = make_staff(session, wall.campaign.organisation, "analyst")
    with pytest.raises(InvalidInput) as error:
        review.run_themes(session, analyst, Scope(wall.campaign_id))
    assert error.value.code == "too_few_answers"
    assert error.value.params == {"num": review.MIN_ANSWERS - 1, "min": review.MIN_ANSWERS}
    assert session.scalars(select(ThemeRun)).all() == []
    assert audit_actions(session) == []


def test_staff_of_another_organisation_can_do_nothing(session: Session, world: World) -> None:
    stranger = make_staff(session, role="admin")
    key = world.run.themes[0].key
    answer = world.ids["bus"][0]
    calls = [
        lambda: review.run_themes(session, stranger, world.scope),
        lambda: review.rename_theme(session, stranger, world.scope, key, "Overtaget"),
        lambda: review.describe_theme(session, stranger, world.scope, key, "Overtaget"),
        lambda: review.merge_themes(session, stranger, world.scope, key, ["t2"]),
        lambda: review.split_theme(session, stranger, world.scope, key, [answer], "Ny"),
        lambda: review.move_answers(session, stranger, world.scope, [answer], key),
        lambda: review.pin_quote(session, stranger, world.scope, key, answer),
        lambda: review.unpin_quote(session, stranger, world.scope, key, answer),
        lambda: review.set_theme_hidden(session, stranger, world.scope, key, True),
        lambda: review.exclude_answers(session, stranger, world.scope, [answer]),
        lambda: review.include_answers(session, stranger, world.scope, [answer]),
        lambda: review.load_scope(session, stranger, world.wall.campaign_id),
    ]
    for call in calls:
        with pytest.raises(NotFound):
            call()
    assert audit_actions(session) == ["theme.run"]
    assert {t.label for t in latest_run(session, world.scope.key).themes} == {
        t.label for t in world.run.themes
    }


# --------------------------------------------------------------------------- each action


def test_rename_takes_effect_validates_and_is_audited(session: Session, world: World) -> None:
    key = world.key_of(session, "bus")
    old = theme(session, world.run, key).label
    renamed = review.rename_theme(session, world.analyst, world.scope, key, "  Busser  og\ntog ")
    assert renamed.label == "Busser og tog"
    assert theme(session, world.run, key).label == "Busser og tog"
    data = session.scalars(select(ThemeCuration)).one().data
    assert data["renamed"] == {key: "Busser og tog"}
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "theme.rename")).one()
    assert entry.before == {"label": old}
    assert entry.after == {"scope": world.scope.key, "theme": key, "label": "Busser og tog"}
    assert entry.target_type == "theme" and entry.target_id == renamed.id
    review.rename_theme(session, world.analyst, world.scope, key, "x" * 200)
    for bad, code in [
        ("", "label_empty"),
        (" \n\t ", "label_empty"),
        ("x" * 201, "label_too_long"),
    ]:
        with pytest.raises(InvalidInput) as error:
            review.rename_theme(session, world.analyst, world.scope, key, bad)
        assert error.value.code == code
    for bad_key in ("t99", "x", "", "t1; drop table theme", "T1"):
        with pytest.raises(NotFound):
            review.rename_theme(session, world.analyst, world.scope, bad_key, "Navn")


def test_names_and_descriptions_staff_write_pass_the_guard(session: Session, world: World) -> None:
    key = world.key_of(session, "bus")
    old = theme(session, world.run, key).label
    for name in ("Lone råber", "pædagogen lone", "LONE OG BUSSEN", "Ring på 22 33 44 55"):
        with pytest.raises(InvalidInput) as error:
            review.rename_theme(session, world.analyst, world.scope, key, name)
        assert error.value.code == "label_personal_data"
        with pytest.raises(InvalidInput) as error:
            review.split_theme(session, world.analyst, world.scope, key, world.ids["bus"][:1], name)
        assert error.value.code == "label_personal_data"
        with pytest.raises(InvalidInput) as error:
            review.describe_theme(session, world.analyst, world.scope, key, f"Om {name}")
        assert error.value.code == "description_personal_data"
    assert theme(session, world.run, key).label == old
    renamed = review.rename_theme(session, world.analyst, world.scope, key, "Sol og busser")
    assert renamed.label == "Sol og busser"  # a word that is also a name ("Sol") is fine


def test_describe_sets_bounds_and_clears(session: Session, world: World) -> None:
    key = world.key_of(session, "legeplads")
    review.describe_theme(session, world.analyst, world.scope, key, "Legepladser <b>og</b> parker")
    assert theme(session, world.run, key).description == "Legepladser <b>og</b> parker"
    with pytest.raises(InvalidInput) as error:
        review.describe_theme(
            session, world.analyst, world.scope, key, "x" * (review.MAX_DESCRIPTION_LENGTH + 1)
        )
    assert error.value.code == "description_too_long"
    assert session.scalars(select(ThemeCuration)).one().descriptions == {
        key: "Legepladser <b>og</b> parker"
    }
    review.describe_theme(session, world.analyst, world.scope, key, "   ")
    assert theme(session, world.run, key).description == ""
    assert session.scalars(select(ThemeCuration)).one().descriptions == {}
    assert audit_actions(session).count("theme.describe") == 2


def test_merge_moves_the_answers_and_removes_the_other_theme(
    session: Session, world: World
) -> None:
    keep, gone = world.key_of(session, "normering"), world.key_of(session, "skaerm")
    size_before = theme(session, world.run, keep).size
    merged = review.merge_themes(session, world.analyst, world.scope, keep, [gone])
    assert merged.key == keep
    assert theme(session, world.run, gone) is None
    members = memberships(session, world.run)
    assert all(keep in members.get(a, set()) for a in world.ids["skaerm"][:7])
    assert "staff" in sources(session, world.run, world.ids["skaerm"][0])
    assert theme(session, world.run, keep).size > size_before
    data = session.scalars(select(ThemeCuration)).one().data
    assert data["merged"] == [[keep, gone]]
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "theme.merge")).one()
    assert entry.after["merged"] == [gone] and entry.after["theme"] == keep
    with pytest.raises(InvalidInput) as error:
        review.merge_themes(session, world.analyst, world.scope, keep, [keep])
    assert error.value.code == "merge_self"
    with pytest.raises(InvalidInput):
        review.merge_themes(session, world.analyst, world.scope, keep, [])
    with pytest.raises(NotFound):
        review.merge_themes(session, world.analyst, world.scope, keep, [gone])  # gone now


def test_split_makes_a_new_theme_of_chosen_answers(session: Session, world: World) -> None:
    key = world.key_of(session, "bus")
    part = world.ids["bus"][:3]
    new = review.split_theme(session, world.analyst, world.scope, key, part, "Busser om morgenen")
    assert new.key not in {t.key for t in world.run.themes if t.id != new.id}
    assert int(new.key[1:]) > max(int(t.key[1:]) for t in world.run.themes if t.id != new.id)
    assert new.label == "Busser om morgenen" and new.size == 3
    members = memberships(session, world.run)
    assert all(members[a] == {new.key} for a in part)
    assert all(sources(session, world.run, a) == {"staff"} for a in part)
    assert key in members[world.ids["bus"][5]]
    assert theme(session, world.run, key).size == 5
    assert not set(part) & set(theme(session, world.run, key).representative_ids)
    data = session.scalars(select(ThemeCuration)).one().data
    assert data["split"] == {new.key: [str(a) for a in part]}
    assert data["renamed"] == {new.key: "Busser om morgenen"}
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "theme.split")).one()
    assert entry.after["from"] == key and entry.after["answers"] == sorted(part)
    other = world.ids["legeplads"][0]
    with pytest.raises(InvalidInput) as error:
        review.split_theme(session, world.analyst, world.scope, key, [other], "Blandet")
    assert error.value.code == "answer_not_in_theme"
    rest = [a for a in world.ids["bus"] if key in members.get(a, set())]
    with pytest.raises(InvalidInput) as error:
        review.split_theme(session, world.analyst, world.scope, key, rest, "Alt")
    assert error.value.code == "split_everything"
    with pytest.raises(InvalidInput) as error:
        review.split_theme(session, world.analyst, world.scope, key, [], "Intet")
    assert error.value.code == "no_answers"
    with pytest.raises(InvalidInput) as error:
        review.split_theme(session, world.analyst, world.scope, key, rest[:1], " ")
    assert error.value.code == "label_empty"


def test_move_puts_answers_in_one_theme_only(session: Session, world: World) -> None:
    target = world.key_of(session, "legeplads")
    moved = [world.ids["bus"][0], world.ids["normering"][1]]
    review.move_answers(session, world.analyst, world.scope, moved, target)
    members = memberships(session, world.run)
    assert all(members[a] == {target} for a in moved)
    assert all(sources(session, world.run, a) == {"staff"} for a in moved)
    data = session.scalars(select(ThemeCuration)).one().data
    assert data["moved"] == {str(a): target for a in moved}
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "theme.move")).one()
    assert entry.after["answers"] == sorted(moved)
    bus = world.key_of(session, "bus")
    assert entry.before["answers"][str(moved[0])] == [bus]
    # Answers of other campaigns and hidden answers are not part of the scope.
    elsewhere = make_answer(session, make_wall(session), "Bussen i en anden kommune")
    hidden = make_answer(session, world.wall, "Skjult bus", status=AnswerStatus.HIDDEN)
    for bad in ([elsewhere.id], [hidden.id], [moved[0], 10**9]):
        with pytest.raises(NotFound):
            review.move_answers(session, world.analyst, world.scope, bad, target)
    with pytest.raises(NotFound):
        review.move_answers(session, world.analyst, world.scope, moved, "t404")
    with pytest.raises(InvalidInput):
        review.move_answers(
            session, world.analyst, world.scope, range(review.MAX_SELECTED + 1), target
        )


def test_pin_puts_quotes_first_and_only_approved_members(session: Session, world: World) -> None:
    key = world.key_of(session, "legeplads")
    members = memberships(session, world.run)
    mine = [a for a in world.ids["legeplads"] if key in members.get(a, set())]
    review.pin_quote(session, world.analyst, world.scope, key, mine[-1])
    review.pin_quote(session, world.analyst, world.scope, key, mine[-2])
    review.pin_quote(session, world.analyst, world.scope, key, mine[-1])  # already pinned
    assert theme(session, world.run, key).representative_ids[:2] == [mine[-1], mine[-2]]
    assert review.pinned_ids(session, world.scope) == {key: [mine[-1], mine[-2]]}
    pending = session.get(Answer, mine[0])
    pending.status = AnswerStatus.PENDING
    session.commit()
    with pytest.raises(InvalidInput) as error:
        review.pin_quote(session, world.analyst, world.scope, key, pending.id)
    assert error.value.code == "not_approved"
    with pytest.raises(InvalidInput) as error:
        review.pin_quote(session, world.analyst, world.scope, key, world.ids["bus"][0])
    assert error.value.code == "not_member"
    for extra in mine[1:4]:
        review.pin_quote(session, world.analyst, world.scope, key, extra)
    with pytest.raises(InvalidInput) as error:
        review.pin_quote(session, world.analyst, world.scope, key, mine[4])
    assert error.value.code == "too_many_pins"
    review.unpin_quote(session, world.analyst, world.scope, key, mine[-1])
    assert mine[-1] not in theme(session, world.run, key).representative_ids
    assert review.pinned_ids(session, world.scope)[key][0] == mine[-2]
    with pytest.raises(InvalidInput) as error:
        review.unpin_quote(session, world.analyst, world.scope, key, mine[-1])
    assert error.value.code == "not_pinned"
    assert audit_actions(session).count("theme.pin") == 6
    assert audit_actions(session).count("theme.unpin") == 1


def test_hide_and_unhide_change_the_counts(session: Session, world: World) -> None:
    key = world.key_of(session, "skaerm")
    review.set_theme_hidden(session, world.analyst, world.scope, key, True)
    assert theme(session, world.run, key).hidden
    counts = theme_counts(session, latest_run(session, world.scope.key))
    assert key not in {c.theme.key for c in counts.themes}
    assert counts.unthemed >= 7
    review.set_theme_hidden(session, world.analyst, world.scope, key, False)
    assert not theme(session, world.run, key).hidden
    assert session.scalars(select(ThemeCuration)).one().data["hidden"] == []
    assert audit_actions(session)[-2:] == ["theme.hide", "theme.unhide"]


def test_not_a_theme_and_back(session: Session, world: World) -> None:
    key = world.key_of(session, "bus")
    odd = world.ids["bus"][:2]
    review.pin_quote(session, world.analyst, world.scope, key, odd[0])
    assert review.exclude_answers(session, world.analyst, world.scope, odd) == 2
    members = memberships(session, world.run)
    assert all(a not in members for a in odd)
    assert not set(odd) & set(theme(session, world.run, key).representative_ids)
    data = session.scalars(select(ThemeCuration)).one().data
    assert data["excluded"] == [str(a) for a in odd] and data["pinned"] == {}
    assert review.excluded_ids(session, world.scope) == odd
    explorer = review.explore(session, world.scope)
    assert [item.answer.id for item in explorer.excluded] == odd
    assert explorer.info is not None and explorer.info.unthemed >= 2
    assert review.include_answers(session, world.analyst, world.scope, odd[:1]) == 1
    assert review.excluded_ids(session, world.scope) == odd[1:]
    # Back under its theme at once (as the model places a new answer), not only at the next
    # run; the one still marked stays out.
    members = memberships(session, world.run)
    assert members.get(odd[0]) == {key} and sources(session, world.run, odd[0]) == {"transform"}
    assert odd[1] not in members
    explorer = review.explore(session, world.scope)
    assert [item.answer.id for item in explorer.excluded] == odd[1:]
    with pytest.raises(NotFound):
        review.include_answers(session, world.analyst, world.scope, odd[:1])
    assert audit_actions(session)[-2:] == ["theme.exclude", "theme.include"]


# --------------------------------------------------------------------------- re-runs


def test_every_curation_survives_a_rerun_with_new_answers(session: Session, world: World) -> None:
    scope, analyst, ids = world.scope, world.analyst, world.ids
    bus, play = world.key_of(session, "bus"), world.key_of(session, "legeplads")
    care, screen = world.key_of(session, "normering"), world.key_of(session, "skaerm")
    members = memberships(session, world.run)
    bus_members = [a for a in ids["bus"] if bus in members.get(a, set())]

    review.rename_theme(session, analyst, scope, bus, "Busser og transport")
    review.describe_theme(session, analyst, scope, bus, "Busforbindelser for børn og unge")
    review.merge_themes(session, analyst, scope, care, [screen])
    split = review.split_theme(session, analyst, scope, bus, bus_members[-3:], "Billige busser")
    moved = ids["legeplads"][0]
    review.move_answers(session, analyst, scope, [moved], bus)
    pinned = bus_members[1]
    review.pin_quote(session, analyst, scope, bus, pinned)
    review.set_theme_hidden(session, analyst, scope, play, True)
    excluded = ids["normering"][0]
    review.exclude_answers(session, analyst, scope, [excluded])

    new_texts = [
        "Bussen til hallen kører for sjældent om aftenen",
        "Flere busser til skolen om morgenen",
        "Legepladsen i byen trænger til nye gynger",
        "Mindre mobil og mere leg i frikvarteret",
    ]
    new_ids = [make_answer(session, world.wall, text).id for text in new_texts]

    for _round in range(2):
        run = review.run_themes(session, analyst, scope)
        assert run.id != world.run.id
        members = memberships(session, run)
        themes = {t.key: t for t in run.themes}
        assert themes[bus].label == "Busser og transport"
        assert themes[bus].description == "Busforbindelser for børn og unge"
        assert screen not in themes
        care_members = {a for a, keys in members.items() if care in keys}
        assert len(set(ids["skaerm"]) & care_members) >= 7
        assert themes[split.key].label == "Billige busser"
        assert all(members[a] == {split.key} for a in bus_members[-3:])
        assert members[moved] == {bus}
        assert themes[bus].representative_ids[0] == pinned
        assert len(themes[bus].representative_ids) >= 3  # then the most central others
        assert bus in members[pinned]
        assert themes[play].hidden and sum(t.hidden for t in run.themes) == 1
        assert excluded not in members
        assert set(new_ids[:2]) <= {a for a, keys in members.items() if bus in keys}
        assert run.n_answers == 36
        explorer = review.explore(session, scope)
        assert explorer.run is not None and explorer.run.id == run.id
        assert explorer.new_total == 0
        summary = next(s for s in explorer.themes if s.theme.key == bus)
        assert summary.quotes[0].answer_id == pinned and summary.quotes[0].pinned
        assert summary.renamed


def test_merging_twice_keeps_one_group_and_survives(session: Session, world: World) -> None:
    care, screen = world.key_of(session, "normering"), world.key_of(session, "skaerm")
    play = world.key_of(session, "legeplads")
    review.merge_themes(session, world.analyst, world.scope, care, [screen])
    review.merge_themes(session, world.analyst, world.scope, play, [care])
    data = session.scalars(select(ThemeCuration)).one().data
    assert data["merged"] == [[play, care, screen]]
    run = review.run_themes(session, world.analyst, world.scope)
    keys = {t.key for t in run.themes}
    assert play in keys and care not in keys and screen not in keys


# --------------------------------------------------------------------------- read models


def test_explorer_counts_quotes_and_new_answers(session: Session, world: World) -> None:
    key = world.key_of(session, "bus")
    flagged = session.get(Answer, world.ids["bus"][1])
    flagged.text = "Ring til Jens på 22 33 44 55 om bussen"
    flagged.pii_findings = [{"kind": "phone", "start": 16, "end": 27}]
    review.pin_quote(session, world.analyst, world.scope, key, flagged.id)
    pending = session.get(Answer, world.ids["bus"][2])
    pending.status = AnswerStatus.PENDING
    session.commit()

    explorer = review.explore(session, world.scope)
    assert explorer.info is not None and explorer.info.n_answers == 32
    assert explorer.info.n_themes == 4 and explorer.counts is not None
    assert explorer.counts.total == 31  # approved only
    summary = next(s for s in explorer.themes if s.theme.key == key)
    assert summary.count == 7
    assert summary.share == pytest.approx(7 / 31)
    assert review.QUOTES_MIN <= len(summary.quotes) <= review.QUOTES_MAX
    assert summary.quotes[0].answer_id == flagged.id and summary.quotes[0].pinned
    assert "22 33 44 55" not in summary.quotes[0].text
    assert "[fjernet]" in summary.quotes[0].text
    assert pending.id not in [q.answer_id for q in summary.quotes]

    # Answers after the run: assigned on arrival, listed as new with their theme.
    later = make_answer(
        session, world.wall, "Bussen kører for sjældent om aftenen", created_at=utcnow()
    )
    assign_answer(session, later)
    no_theme = make_answer(session, world.wall, "Hej", created_at=utcnow())
    waiting = make_answer(
        session, world.wall, "Flere busser", status=AnswerStatus.PENDING, created_at=utcnow()
    )
    explorer = review.explore(session, world.scope)
    assert explorer.new_total == 2
    by_id = {item.answer.id: item for item in explorer.new_answers}
    assert [t.key for t in by_id[later.id].themes] == [key]
    assert by_id[no_theme.id].themes == []
    with_pending = review.explore(
        session, world.scope, statuses=(AnswerStatus.APPROVED, AnswerStatus.PENDING)
    )
    assert waiting.id in {item.answer.id for item in with_pending.new_answers}


def test_explorer_filters_narrow_counts_and_quotes(session: Session, world: World) -> None:
    young = make_wall(
        session, campaign=world.wall.campaign, audience=Audience.YOUNG, moderation=Moderation.POST
    )
    for text in ("Bussen til klubben kører ikke om aftenen", "Gratis bus for unge, tak"):
        make_answer(session, young, text, area="Nexø")
    run = review.run_themes(session, world.analyst, world.scope)
    explorer = review.explore(session, world.scope, AnswerFilter(audience=Audience.YOUNG))
    assert explorer.counts is not None and explorer.counts.total == 2
    quoted = {q.answer_id for s in explorer.themes for q in s.quotes}
    young_ids = set(session.scalars(select(Answer.id).where(Answer.wall_id == young.id)))
    assert quoted <= young_ids and quoted
    everyone = review.explore(session, world.scope)
    assert everyone.counts is not None and everyone.counts.total == 34
    assert everyone.run is not None and everyone.run.id == run.id


def test_no_run_yet(session: Session) -> None:
    wall = make_wall(session)
    make_answer(session, wall)
    explorer = review.explore(session, Scope(wall.campaign_id))
    assert explorer.run is None and explorer.themes == [] and explorer.scope_answers == 1
    with pytest.raises(NotFound) as error:
        review.theme_page(session, Scope(wall.campaign_id), "t1")
    assert error.value.code == "no_run"


def test_theme_page_lists_answers_with_pins_first_and_pages(session: Session, world: World) -> None:
    key = world.key_of(session, "bus")
    members = memberships(session, world.run)
    mine = [a for a in world.ids["bus"] if key in members.get(a, set())]
    review.pin_quote(session, world.analyst, world.scope, key, mine[0])
    pending = session.get(Answer, mine[1])
    pending.status = AnswerStatus.PENDING
    pending.created_at = pending.created_at - timedelta(days=1)
    session.commit()
    first = review.theme_page(session, world.scope, key, per_page=3)
    assert first.total == len(mine) - 1  # approved only by default
    assert first.answers[0].answer.id == mine[0] and first.answers[0].pinned
    assert first.has_more and len(first.answers) == 3
    assert pending.id not in {a.answer.id for a in first.answers}
    second = review.theme_page(session, world.scope, key, per_page=3, page=2)
    assert not {a.answer.id for a in first.answers} & {a.answer.id for a in second.answers}
    everything = review.theme_page(
        session, world.scope, key, statuses=(AnswerStatus.APPROVED, AnswerStatus.PENDING)
    )
    assert everything.total == len(mine)
    assert everything.answers[-1].answer.id == pending.id
    assert all(a.source == "fit" for a in everything.answers)
    assert everything.count == len(mine) - 1
    with pytest.raises(NotFound):
        review.theme_page(session, world.scope, "t999")


def test_demo_can_come_with_themes(session: Session) -> None:
    from surveys.demo import load_demo

    load_demo(session)  # tests' default: no engine run
    assert session.scalars(select(ThemeRun)).all() == []
    load_demo(session, themes=True)  # the demo exists: only the missing themes are made
    load_demo(session, themes=True)  # and only once
    runs = session.scalars(select(ThemeRun)).all()
    assert len(runs) == 1 and runs[0].wall_id is None and runs[0].n_answers > 250
    explorer = review.explore(session, Scope(runs[0].campaign_id))
    assert len(explorer.themes) >= 5
    assert all(len(s.quotes) >= review.QUOTES_MIN for s in explorer.themes if s.count >= 3)
