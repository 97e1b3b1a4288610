"""The report's read model: figures, quotes, small groups, replies and publishing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys import report as reports
from surveys.errors import InvalidInput, NotFound
from surveys.insights import OTHER_KEY, theme_counts
from surveys.models import (
    Answer,
    AnswerStatus,
    Audience,
    AuditEntry,
    Campaign,
    Channel,
    Moderation,
    Theme,
    ThemeAssignment,
    ThemeCuration,
    ThemeRun,
    WallReply,
)
from surveys.report import PublicChoice
from surveys.themes import Scope, build_themes
from tests.factories import make_answer, make_staff, make_wall
from tests.surveys.test_themes import TOPICS


def make_run(
    session: Session,
    campaign: Campaign,
    groups: dict[str, list[int]],
    *,
    labels: dict[str, str] | None = None,
    representatives: dict[str, list[int]] | None = None,
    hidden: tuple[str, ...] = (),
    descriptions: dict[str, str] | None = None,
) -> ThemeRun:
    """A hand-built campaign-wide theme run: {theme key: member answer ids}.

    ``labels`` are names staff gave (kept in the scope's curation, as renaming does); a theme
    without one has only its engine label, the key.
    """
    run = ThemeRun(
        campaign_id=campaign.id,
        scope_key=Scope(campaign.id).key,
        n_answers=len({a for ids in groups.values() for a in ids}),
        model=b"",
    )
    session.add(run)
    for position, (key, members) in enumerate(groups.items()):
        theme = Theme(
            key=key,
            position=position,
            label=(labels or {}).get(key, key),
            auto_label=key,
            description=(descriptions or {}).get(key, ""),
            terms=[f"{key}-ord{i}" for i in range(7)],
            size=len(members),
            representative_ids=(representatives or {}).get(key, members[:5]),
            hidden=key in hidden,
        )
        run.themes.append(theme)
        session.flush()
        for answer_id in members:
            session.add(ThemeAssignment(theme_id=theme.id, answer_id=answer_id, run_id=run.id))
    if labels:
        curation = session.scalars(
            select(ThemeCuration).where(ThemeCuration.scope_key == run.scope_key)
        ).first()
        if curation is None:
            curation = ThemeCuration(campaign_id=campaign.id, scope_key=run.scope_key, data={})
            session.add(curation)
        renamed = dict((curation.data or {}).get("renamed") or {}) | labels
        curation.data = {**(curation.data or {}), "renamed": renamed}
    session.commit()
    return run


def _members(session: Session, run: ThemeRun) -> dict[int, set[int]]:
    result: dict[int, set[int]] = {}
    for row in session.scalars(select(ThemeAssignment).where(ThemeAssignment.run_id == run.id)):
        result.setdefault(row.theme_id, set()).add(row.answer_id)
    return result


def test_counts_shares_and_method_match_the_data(session: Session) -> None:
    parents = make_wall(session, title="Forældre", audience=Audience.PARENTS)
    campaign = parents.campaign
    young = make_wall(session, title="Unge", audience=Audience.YOUNG, campaign=campaign)
    day = datetime(2026, 10, 5, 12, tzinfo=UTC)
    p = [
        make_answer(session, parents, f"Forældresvar nummer {i} om legepladser", created_at=day)
        for i in range(6)
    ]
    y = [
        make_answer(
            session,
            young,
            f"Ungesvar nummer {i} om busser",
            channel=Channel.KIOSK,
            created_at=day + timedelta(days=3),
        )
        for i in range(4)
    ]
    paper = make_answer(
        session,
        young,
        "Skrevet på en seddel om busser",
        channel=Channel.PAPER,
        place="Ungdomsklubben",
        written_on=date(2026, 9, 30),
    )
    pending = make_answer(session, parents, "Venter på moderator", status=AnswerStatus.PENDING)
    hidden = make_answer(session, parents, "Skjult svar", status=AnswerStatus.HIDDEN)
    run = make_run(
        session,
        campaign,
        {
            "leg": [a.id for a in p[:4]] + [pending.id],
            "bus": [a.id for a in y] + [paper.id, p[0].id, hidden.id],
            "gemt": [p[5].id],
        },
        labels={"leg": "Legepladser", "bus": "Busser"},
        hidden=("gemt",),
    )

    result = reports.build_report(session, campaign)
    counts = theme_counts(session, run)
    assert result.has_themes and result.run_id == run.id
    assert [(t.label, t.count, t.share) for t in result.themes] == [
        (c.theme.label, c.count, c.share) for c in counts.themes
    ]
    # Hand-counted: 11 approved answers; bus 4 + paper + p0 = 6, leg 4; p4 and p5 in no theme.
    assert result.method.total == counts.total == 11
    assert [(t.label, t.count) for t in result.themes] == [("Busser", 6), ("Legepladser", 4)]
    assert result.themes[0].share == pytest.approx(6 / 11)
    assert result.method.unthemed == 2
    assert result.method.themes_hidden == 1 and result.method.themes_shown == 2
    m = result.method
    assert (m.first_day, m.last_day) == (date(2026, 9, 30), date(2026, 10, 8))
    assert {t.key: t.count for t in m.by_channel} == {"web": 6, "kiosk": 4, "paper": 1}
    assert (m.kiosk, m.paper, m.event) == (4, 1, 0)
    assert [(t.key, t.count) for t in m.places] == [("Ungdomsklubben", 1)]
    assert {t.key: t.count for t in m.by_audience} == {"parents": 6, "young": 5}
    walls = {w.title: w for w in m.walls}
    assert walls["Forældre"].count == 6 and walls["Unge"].count == 5
    assert [q.count for q in walls["Forældre"].prompts] == [6, 0]
    assert result.themes[0].terms == [f"bus-ord{i}" for i in range(5)]
    quoted = {q.answer_id for t in result.themes for q in t.quotes}
    assert pending.id not in quoted and hidden.id not in quoted


def test_quotes_belong_to_their_theme_pinned_first_and_are_made_safe(session: Session) -> None:
    wall = make_wall(session)
    campaign = wall.campaign
    a = [make_answer(session, wall, f"Et helt almindeligt svar om skolen nr {i}") for i in range(8)]
    leaky = make_answer(session, wall, "Ring til mig på 22 33 44 55 om skolen")
    pending = make_answer(session, wall, "Venter stadig", status=AnswerStatus.PENDING)
    outsider = make_answer(session, wall, "Handler om noget helt andet")
    members = [x.id for x in a[:6]] + [leaky.id, pending.id]
    make_run(
        session,
        campaign,
        {"skole": members, "andet": [outsider.id, a[7].id]},
        representatives={"skole": [a[2].id, pending.id, a[3].id]},
    )
    session.add(
        ThemeCuration(
            campaign_id=campaign.id,
            scope_key=Scope(campaign.id).key,
            data={"pinned": {"skole": [str(leaky.id), outsider.id, pending.id, "x", a[5].id]}},
            descriptions={},
        )
    )
    session.commit()

    result = reports.build_report(session, campaign)
    skole = next(t for t in result.themes if t.key == "skole")
    ids = [q.answer_id for q in skole.quotes]
    # Pinned members first (the outsider and the pending answer are left out), then the
    # engine's representatives, never more than five.
    assert ids[:2] == [leaky.id, a[5].id]
    assert ids[2:4] == [a[2].id, a[3].id]
    assert reports.QUOTES_MIN <= len(ids) <= reports.QUOTES_MAX
    assert set(ids) <= set(members) - {pending.id}
    assert [q.pinned for q in skole.quotes][:3] == [True, True, False]
    assert skole.quotes[0].text == "Ring til mig på [fjernet] om skolen"
    andet = next(t for t in result.themes if t.key == "andet")
    assert {q.answer_id for q in andet.quotes} <= {outsider.id, a[7].id}
    assert all("22 33" not in q.text for t in result.themes for q in t.quotes)


def test_every_quote_of_a_real_run_is_an_approved_member(session: Session) -> None:
    wall = make_wall(session, moderation=Moderation.POST)
    for texts in TOPICS.values():
        for text in texts:
            make_answer(session, wall, text)
    waiting = make_answer(session, wall, "Bussen kører for sjældent", status=AnswerStatus.PENDING)
    run = build_themes(session, Scope(wall.campaign_id), n_themes=3)
    result = reports.build_report(session, wall.campaign)
    members = _members(session, run)
    assert len(result.themes) == 3
    for theme in result.themes:
        assert reports.QUOTES_MIN <= len(theme.quotes) <= reports.QUOTES_MAX
        for quote in theme.quotes:
            assert quote.answer_id in members[theme.theme_id]
            answer = session.get(Answer, quote.answer_id)
            assert answer is not None and answer.status is AnswerStatus.APPROVED
            assert quote.text == answer.text
    assert waiting.id not in {q.answer_id for t in result.themes for q in t.quotes}
    assert sum(t.count for t in result.themes) >= 20
    assert result.method.total == 24


def test_small_groups_are_never_shown_on_their_own(session: Session) -> None:
    wall = make_wall(session, areas=["Rønne", "Nexø", "Hasle", "Svaneke"])
    answers = (
        [make_answer(session, wall, f"R {i}", area="Rønne") for i in range(6)]
        + [make_answer(session, wall, f"N {i}", area="Nexø") for i in range(3)]
        + [make_answer(session, wall, f"H {i}", area="Hasle") for i in range(2)]
        + [make_answer(session, wall, "S", area="Svaneke")]
        + [make_answer(session, wall, f"U {i}", role="young") for i in range(2)]
    )
    make_run(session, wall.campaign, {"t": [a.id for a in answers]})
    result = reports.build_report(session, wall.campaign)
    # Nexø, Hasle and Svaneke (3 + 2 + 1) are pooled; two young people are left out.
    assert [(t.key, t.count) for t in result.method.by_area] == [("Rønne", 6), (OTHER_KEY, 6)]
    assert result.method.no_area == 2
    assert [(t.key, t.count) for t in result.method.by_audience] == [("parents", 12)]
    for breakdown in result.breakdowns:
        assert all(g.n_answers >= 5 for g in breakdown.groups)
    assert [b.dimension.value for b in result.breakdowns] == ["audience", "area"]

    lone = make_wall(session, areas=["Rønne"])
    for i in range(5):
        make_answer(session, lone, f"R {i}", area="Rønne")
    make_answer(session, lone, "Alene", area="Hasle")
    method = reports.build_report(session, lone.campaign).method
    assert [(t.key, t.count) for t in method.by_area] == [("Rønne", 5)]
    assert method.no_area == 1  # the lone small area is counted with "no area"


def test_no_run_gives_a_report_without_themes(session: Session) -> None:
    wall = make_wall(session)
    make_answer(session, wall, "Et svar")
    result = reports.build_report(session, wall.campaign)
    assert not result.has_themes
    assert result.themes == [] and result.breakdowns == []
    assert result.method.total == 1 and result.method.run_at is None
    assert result.max_count == 1


def test_replies_are_visible_ones_newest_first(session: Session) -> None:
    wall = make_wall(session, title="Forældrevæggen")
    other = make_wall(session)  # another campaign
    now = datetime(2026, 11, 1, 9, tzinfo=UTC)
    session.add_all(
        [
            WallReply(wall_id=wall.id, text="Første svar", created_at=now),
            WallReply(wall_id=wall.id, text="Nyeste svar", created_at=now + timedelta(days=2)),
            WallReply(wall_id=wall.id, text="Skjult", is_hidden=True, created_at=now),
            WallReply(wall_id=other.id, text="Fra en anden kampagne", created_at=now),
        ]
    )
    session.commit()
    replies = reports.build_report(session, wall.campaign).replies
    assert [(r.text, r.wall, r.day) for r in replies] == [
        ("Nyeste svar", "Forældrevæggen", date(2026, 11, 3)),
        ("Første svar", "Forældrevæggen", date(2026, 11, 1)),
    ]


def test_publishing_snapshots_the_run_and_is_audited(session: Session) -> None:
    wall = make_wall(session)
    campaign = wall.campaign
    a = [make_answer(session, wall, f"Svar {i}") for i in range(5)]
    manager = make_staff(session, campaign.organisation, "manager")
    stranger = make_staff(session, role="admin")
    with pytest.raises(NotFound):
        reports.build_public_report(session, campaign.slug)
    with pytest.raises(InvalidInput):
        reports.publish_report(session, manager, campaign, [PublicChoice("t1")])  # no themes yet
    first = make_run(session, campaign, {"t1": [x.id for x in a[:3]]}, labels={"t1": "Først"})
    with pytest.raises(NotFound):
        reports.publish_report(session, stranger, campaign, [PublicChoice("t1")])
    assert campaign.published_at is None

    assert reports.publish_report(session, manager, campaign, [PublicChoice("t1")]).id == first.id
    assert campaign.published_at is not None and campaign.published_run_id == first.id
    public = reports.build_public_report(session, campaign.slug)
    assert [t.label for t in public.themes] == ["Først"] and public.breakdowns == []

    make_run(session, campaign, {"t2": [x.id for x in a]}, labels={"t2": "Senere"})
    draft = reports.build_report(session, campaign, draft=True)
    assert [t.label for t in draft.themes] == ["Senere"]
    assert draft.version is reports.ReportVersion.DRAFT
    report = reports.build_report(session, campaign)  # the published run, as published
    assert [t.label for t in report.themes] == ["Først"]
    assert report.version is reports.ReportVersion.PUBLISHED
    assert [t.label for t in reports.build_public_report(session, campaign.slug).themes] == [
        "Først"
    ]

    reports.unpublish_report(session, manager, campaign)
    with pytest.raises(NotFound):
        reports.build_public_report(session, campaign.slug)
    reports.unpublish_report(session, manager, campaign)  # nothing to do, nothing logged
    actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["campaign.publish", "campaign.unpublish"]
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).first()
    assert entry is not None and entry.actor_id == manager.id
    assert entry.after is not None and entry.after["run"] == first.id


def test_all_themes_hidden_cannot_be_published(session: Session) -> None:
    wall = make_wall(session)
    answer = make_answer(session, wall)
    make_run(session, wall.campaign, {"t": [answer.id]}, hidden=("t",))
    manager = make_staff(session, wall.campaign.organisation, "manager")
    with pytest.raises(InvalidInput):
        reports.publish_report(session, manager, wall.campaign, [PublicChoice("t")])
    assert reports.build_report(session, wall.campaign).themes == []
    assert wall.campaign.published_at is None


def test_the_report_has_the_closed_questions_with_safe_follow_ups(session: Session) -> None:
    from surveys.models import Moderation
    from tests.factories import add_closed_prompts, submit

    wall = make_wall(session, moderation=Moderation.POST)
    scale = add_closed_prompts(session, wall)["scale"]
    texts = [None, "Der er fred og ro her", "Det er pisse kedeligt", None]
    for number, text in enumerate(texts):
        submit(
            session,
            wall,
            prompt_id=scale.id,
            value=4 if number < 3 else 2,
            text=text,
            client_submission_id=f"report-closed-{number}",
        )
    result = reports.build_report(session, wall.campaign)
    (closed,) = [r for r in result.closed if r.prompt.id == scale.id]
    assert closed.respondents == 4 and [o.count for o in closed.options][1:4] == [1, 0, 3]
    # the profane follow-up is never quoted
    assert [a.text for a in closed.follow_ups["4"]] == ["Der er fred og ro her"]


def test_the_report_breaks_closed_questions_down_by_group_without_small_groups(
    session: Session,
) -> None:
    from surveys.models import Moderation
    from surveys.results import ResultDimension
    from tests.factories import add_closed_prompts, submit

    wall = make_wall(session, moderation=Moderation.POST)
    single = add_closed_prompts(session, wall)["single"]
    roles = ["parent"] * 6 + ["young"] * 5 + ["professional"] * 2
    for number, role in enumerate(roles):
        submit(
            session,
            wall,
            prompt_id=single.id,
            value="o1" if role == "parent" else "o3",
            text=None,
            profile={"role": role, "area": "Rønne"},
            client_submission_id=f"report-groups-{number}",
        )
    result = reports.build_report(session, wall.campaign)
    (by_role,) = result.closed_breakdowns[single.id]  # one area only: no area breakdown
    assert by_role.dimension is ResultDimension.ROLE
    assert [(g.key, g.respondents) for g in by_role.groups] == [("parent", 6), ("young", 5)]
    assert by_role.suppressed == 2
