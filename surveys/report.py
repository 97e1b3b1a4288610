"""The campaign report ("Unge stemmer"-style) and its public page, as a plain read model.

:func:`build_report` gathers everything the document shows: the method (how many approved
answers, from whom, where and when, how the themes were made), the visible themes of the
latest campaign-wide theme run ordered by size with 3-5 quotes each, breakdowns by group
and the staff's replies ("Det gør vi nu"). Figures count *approved* answers only, through
:mod:`surveys.insights`; quotes are approved members of their theme, with their text
through :func:`surveys.export.safe_text`. Groups of fewer than ``MIN_GROUP_SIZE`` answers
are pooled, never shown on their own.

:func:`publish_report` and :func:`unpublish_report` switch the public "Det har vi hørt"
page on and off; it shows the run that was published (a snapshot), not whatever ran last.
Publishing is a review (:func:`publish_review`): staff choose the public themes, each of which
must have a name staff gave it (never only the engine's label), and confirm up to
``PUBLIC_QUOTES`` quotes per theme; a quote is never an answer the personal-data guard flagged
or one with a swear word (:mod:`surveys.profanity`). :func:`preview_report` builds exactly what
the page will show from the same choices without saving anything.
Nothing here imports Flask; the wording lives in the templates.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .errors import N_, InvalidInput, NotFound
from .export import safe_text
from .filters import answer_audience, audience_of, day_of
from .insights import (
    MIN_GROUP_SIZE,
    OTHER_KEY,
    Breakdown,
    Dimension,
    theme_breakdown,
    theme_counts,
)
from .models import (
    Answer,
    AnswerStatus,
    Campaign,
    Channel,
    Prompt,
    StaffUser,
    Theme,
    ThemeAssignment,
    ThemeCuration,
    ThemeRun,
    Wall,
    WallReply,
    utcnow,
)
from .profanity import has_profanity
from .results import QuestionResult, ResultDimension, campaign_results, question_result
from .themes import Scope, latest_run, public_label, public_terms

#: Quotes per theme: at least this many when the theme has them ...
QUOTES_MIN = 3
#: ... and never more than this many.
QUOTES_MAX = 5
#: Top terms shown per theme.
TOP_TERMS = 5
#: Quotes per theme on the public page (staff confirm each).
PUBLIC_QUOTES = 3
#: Quotes offered per theme in the publishing review.
REVIEW_OPTIONS = 12
#: Quotes of this length read well; others are used only when nothing better is there.
_GOOD_QUOTE = range(25, 420)


@dataclass(frozen=True)
class Tally:
    """A group and its number of answers (``key`` ``OTHER_KEY`` pools small groups)."""

    key: str
    count: int
    share: float


@dataclass(frozen=True)
class PromptFigure:
    """A question and how many approved answers it got."""

    position: int
    text: str
    count: int


@dataclass(frozen=True)
class WallFigure:
    """A wall, its audience and its answers per question."""

    title: str
    slug: str
    audience: str
    count: int
    prompts: list[PromptFigure]


@dataclass(frozen=True)
class Method:
    """The figures of the method section (approved answers only)."""

    total: int
    first_day: date | None
    last_day: date | None
    by_audience: list[Tally]  # small groups pooled under OTHER_KEY or left out
    by_channel: list[Tally]  # every channel with answers, paper notes included
    by_area: list[Tally]  # small areas pooled under OTHER_KEY or left out
    no_area: int  # answers that did not give an area, plus areas left out as too small
    places: list[Tally]  # where paper and event answers were collected
    walls: list[WallFigure]
    kiosk: int
    event: int
    paper: int
    # theme engine (None without a run)
    run_at: datetime | None = None
    run_answers: int = 0  # answers the engine grouped (approved and waiting, never hidden)
    requested_themes: str = "auto"
    themes_shown: int = 0
    themes_hidden: int = 0
    themes_described: int = 0
    curated: bool = False
    unthemed: int = 0


@dataclass(frozen=True)
class Quote:
    """An approved answer quoted under a theme (text already made safe)."""

    answer_id: int
    text: str
    wall: str
    audience: str
    day: date
    pinned: bool = False


@dataclass(frozen=True)
class ReportTheme:
    """A visible theme with its figures and quotes."""

    theme_id: int
    key: str
    label: str
    description: str
    count: int
    share: float
    terms: list[str]
    quotes: list[Quote]
    #: Whether staff gave the theme its name (else the label is the engine's suggestion).
    named: bool = True


@dataclass(frozen=True)
class ReplyItem:
    """A staff reply shown on a wall."""

    wall: str
    wall_slug: str
    text: str
    day: date
    #: The wall's language (that of ``text`` and ``wall``) and the reply in its others.
    lang: str = "da"
    translations: dict[str, str] = field(default_factory=dict)


class ReportVersion(enum.StrEnum):
    """Which themes a report shows."""

    #: The published run with the names and quotes published (what citizens read).
    PUBLISHED = "published"
    #: The latest run with all its visible themes, not (or not in this form) published.
    DRAFT = "draft"


@dataclass(frozen=True)
class Report:
    """Everything the report (and the public page) shows."""

    campaign_id: int
    slug: str
    title: str
    description: str
    organisation: str
    language: str
    is_demo: bool
    generated_at: datetime
    method: Method
    run_id: int | None
    themes: list[ReportTheme]
    replies: list[ReplyItem]
    breakdowns: list[Breakdown] = field(default_factory=list)
    published_at: datetime | None = None
    published_run_id: int | None = None
    #: The organisation whose look (logo, colour) the report carries.
    organisation_id: int | None = None
    #: Which themes it shows: the published ones, as published, or a draft (the latest run).
    version: ReportVersion = ReportVersion.DRAFT
    #: The results of the closed questions (issue 26), wall by wall, in the walls' order.
    closed: list[QuestionResult] = field(default_factory=list)
    #: {prompt id: its results broken down by role, age group and area}, those that show at
    #: least two groups (small groups pooled or left out: surveys.insights).
    closed_breakdowns: dict[int, list[QuestionResult]] = field(default_factory=dict)

    @property
    def has_themes(self) -> bool:
        """Whether there is a theme run to show."""
        return self.run_id is not None

    @property
    def max_count(self) -> int:
        """The largest theme's count (the bar chart's scale; at least 1)."""
        return max([t.count for t in self.themes] or [0]) or 1

    @staticmethod
    def label_of(theme: Theme) -> str:
        """A theme's label as the report shows it (a breakdown's rows): through the guard."""
        return public_label(theme.label)


@dataclass(frozen=True)
class PublicChoice:
    """A theme staff chose for the public page: its name and the answer ids of its quotes.

    ``name`` empty keeps the name staff gave the theme before (if any).
    """

    key: str
    name: str = ""
    quotes: tuple[int, ...] = ()


@dataclass(frozen=True)
class _Selection:
    """What the public page shows of a run: {theme key: quote ids} and names to use."""

    quotes: dict[str, list[int]]
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class QuoteOption:
    """An approved answer of a theme offered as a quote; ``problem`` says why it cannot be."""

    answer_id: int
    text: str
    problem: str | None  # None, "flagged" (personal data) or "profanity"
    chosen: bool


@dataclass(frozen=True)
class ThemeOption:
    """A visible theme in the publishing review."""

    key: str
    label: str
    engine_label: str
    named: bool  # staff gave it a name
    count: int
    included: bool
    quotes: list[QuoteOption]
    #: What the name field holds: the staff's name, else empty (or what staff just wrote).
    name: str = ""


@dataclass(frozen=True)
class PublishReview:
    """The publishing review of a campaign's latest run (``themes`` empty without one)."""

    run_id: int | None
    themes: list[ThemeOption]


# -- runs and publishing -------------------------------------------------------------------------


def campaign_run(session: Session, campaign: Campaign) -> ThemeRun | None:
    """The latest campaign-wide theme run (the one the report uses)."""
    return latest_run(session, Scope(campaign.id).key)


def published_run(session: Session, campaign: Campaign) -> ThemeRun | None:
    """The run the public page shows, when the campaign is published."""
    if campaign.published_at is None or campaign.published_run_id is None:
        return None
    run = session.get(ThemeRun, campaign.published_run_id)
    if run is None or run.campaign_id != campaign.id:
        return None
    return run


def _same_org(actor: StaffUser, campaign: Campaign) -> None:
    if actor.organisation_id != campaign.organisation_id:
        raise NotFound(N_("This campaign does not exist."), code="campaign_not_found")


def _published_state(campaign: Campaign) -> dict[str, object]:
    return {
        "published_at": campaign.published_at,
        "run": campaign.published_run_id,
        "themes": campaign.published_themes,
    }


def quote_problem(answer: Answer) -> str | None:
    """Why an approved answer cannot be a public quote: "flagged" when the personal-data guard
    found something in it, "profanity" with a word of :mod:`surveys.profanity`; else None."""
    if answer.pii_findings:
        return "flagged"
    if has_profanity(safe_text(answer)):
        return "profanity"
    return None


def staff_named(session: Session, run: ThemeRun) -> set[str]:
    """Keys of the run's themes that staff gave a name (their scope's curation)."""
    row = session.scalars(
        select(ThemeCuration).where(ThemeCuration.scope_key == run.scope_key)
    ).first()
    renamed = ((row.data or {}).get("renamed") or {}) if row else {}
    return {str(key) for key in renamed} if isinstance(renamed, dict) else set()


def publish_review(
    session: Session, campaign: Campaign, submitted: Sequence[PublicChoice] | None = None
) -> PublishReview:
    """The visible themes of the latest run with their names and the quotes staff can choose.

    Preselected: the ``submitted`` choices (shown again after an error), else what was
    published last for the same run, else every named theme with the report's first
    ``PUBLIC_QUOTES`` quotes (which never include a flagged or profane answer).
    """
    run = campaign_run(session, campaign)
    if run is None:
        return PublishReview(None, [])
    named = staff_named(session, run)
    previous = campaign.published_themes if campaign.published_run_id == run.id else None
    _method_figures, wall_info = _method(session, campaign, MIN_GROUP_SIZE)
    themes, _total, _unthemed = _themes(session, campaign, run, wall_info)
    members = _members(session, run)
    by_key = {t.key: t for t in run.themes}
    typed = {c.key: c for c in submitted} if submitted is not None else None
    options: list[ThemeOption] = []
    for item in themes:
        theme = by_key[item.key]
        name = item.label if item.key in named else ""
        if typed is not None:
            choice = typed.get(item.key)
            included = choice is not None
            chosen = set(choice.quotes) if choice else set()
            name = choice.name if choice and choice.name.strip() else name
        elif previous is not None:
            included = item.key in previous
            chosen = set(previous.get(item.key, []))
        else:
            included = item.key in named
            chosen = {q.answer_id for q in item.quotes[:PUBLIC_QUOTES]}
        default_ids = [q.answer_id for q in item.quotes]
        ids = list(dict.fromkeys([*chosen, *default_ids, *members.get(theme.id, [])]))
        answers = {
            a.id: a
            for a in session.scalars(select(Answer).where(Answer.id.in_(ids[:REVIEW_OPTIONS])))
        }
        quotes = []
        for answer_id in ids[:REVIEW_OPTIONS]:
            answer = answers.get(answer_id)
            if answer is None or answer.status is not AnswerStatus.APPROVED:
                continue
            problem = quote_problem(answer)
            quotes.append(
                QuoteOption(
                    answer.id, safe_text(answer), problem, problem is None and answer.id in chosen
                )
            )
        options.append(
            ThemeOption(
                key=item.key,
                label=item.label,
                engine_label=public_label(theme.auto_label or theme.label),
                named=item.key in named,
                count=item.count,
                included=included,
                quotes=quotes,
                name=name,
            )
        )
    return PublishReview(run.id, options)


def _checked_selection(
    session: Session, campaign: Campaign, choices: Sequence[PublicChoice]
) -> tuple[ThemeRun, _Selection]:
    """The latest run and what the choices make public, or :class:`InvalidInput`."""
    from .theme_review import clean_label

    run = campaign_run(session, campaign)
    visible = {t.key: t for t in run.themes if not t.hidden} if run is not None else {}
    if run is None or not visible:
        raise InvalidInput(
            N_("There are no themes to publish yet. Build the campaign's themes first."),
            code="no_themes",
        )
    chosen = [c for c in choices if c.key in visible]
    if not chosen:
        raise InvalidInput(
            N_("Choose at least one theme to show on the public page."), code="no_public_themes"
        )
    named = staff_named(session, run)
    unnamed = [visible[c.key] for c in chosen if c.key not in named and not c.name.strip()]
    if unnamed:
        raise InvalidInput(
            N_("Give these themes a name before you publish them: %(themes)s."),
            code="unnamed_themes",
            themes=", ".join(f'"{public_label(t.label)}"' for t in unnamed),
        )
    members = _members(session, run)
    quotes: dict[str, list[int]] = {}
    labels: dict[str, str] = {}
    for choice in chosen:
        theme = visible[choice.key]
        if choice.name.strip():
            labels[choice.key] = clean_label(choice.name)
        ids = list(dict.fromkeys(choice.quotes))
        if len(ids) > PUBLIC_QUOTES:
            raise InvalidInput(
                N_("Choose at most %(num)d quotes for a theme."),
                code="too_many_quotes",
                num=PUBLIC_QUOTES,
            )
        allowed = set(members.get(theme.id, []))
        answers = session.scalars(select(Answer).where(Answer.id.in_(ids))).all()
        if len(answers) != len(ids) or any(
            a.id not in allowed or quote_problem(a) is not None for a in answers
        ):
            raise InvalidInput(
                N_(
                    "A quote cannot be published: it is no longer an approved answer of the "
                    "theme, or it contains personal data or a swear word."
                ),
                code="quote_not_allowed",
            )
        quotes[choice.key] = ids
    return run, _Selection(quotes, labels)


def preview_report(session: Session, campaign: Campaign, choices: Sequence[PublicChoice]) -> Report:
    """The public page as it will be once published with ``choices`` (nothing is saved)."""
    run, selection = _checked_selection(session, campaign, choices)
    return _build(session, campaign, run, False, MIN_GROUP_SIZE, selection)


def publish_report(
    session: Session, actor: StaffUser, campaign: Campaign, choices: Sequence[PublicChoice]
) -> ThemeRun:
    """Publish the "Det har vi hørt" page with the chosen themes and quotes (audited).

    Names written in the review are given to their themes first (as in the theme explorer,
    each audited). Publishing again replaces what was published with the latest run's.
    """
    from .theme_review import rename_theme

    _same_org(actor, campaign)
    run, selection = _checked_selection(session, campaign, choices)
    by_key = {t.key: t for t in run.themes}
    named = staff_named(session, run)
    for key, label in selection.labels.items():
        if key not in named or by_key[key].label != label:
            rename_theme(session, actor, Scope(campaign.id), key, label)
    before = _published_state(campaign)
    campaign.published_at = utcnow()
    campaign.published_run_id = run.id
    campaign.published_themes = {k: list(v) for k, v in selection.quotes.items()}
    audit.commit_change(
        session,
        organisation_id=campaign.organisation_id,
        actor=actor,
        action="campaign.publish",
        target_type="campaign",
        target_id=campaign.id,
        before=before,
        after=_published_state(campaign),
    )
    return run


def unpublish_report(session: Session, actor: StaffUser, campaign: Campaign) -> None:
    """Take the public page down (audited); does nothing when it is not published."""
    _same_org(actor, campaign)
    if campaign.published_at is None:
        return
    before = _published_state(campaign)
    campaign.published_at = None
    campaign.published_run_id = None
    campaign.published_themes = None
    audit.commit_change(
        session,
        organisation_id=campaign.organisation_id,
        actor=actor,
        action="campaign.unpublish",
        target_type="campaign",
        target_id=campaign.id,
        before=before,
        after=_published_state(campaign),
    )


# -- the method ------------------------------------------------------------------------------------


def _pooled(counts: Counter[str], total: int, minimum: int) -> tuple[list[Tally], int]:
    """(groups largest first, answers left out) with the breakdowns' small-group rule.

    A group below ``minimum`` is never shown on its own: small groups are pooled under
    ``OTHER_KEY`` when at least two of them reach ``minimum`` together, else left out.
    """
    shown = sorted(((k, n) for k, n in counts.items() if n >= minimum), key=lambda i: (-i[1], i[0]))
    small = [n for n in counts.values() if n < minimum]
    left_out = 0
    if len(small) >= 2 and sum(small) >= minimum:
        shown.append((OTHER_KEY, sum(small)))
    else:
        left_out = sum(small)
    return [Tally(k, n, n / total if total else 0.0) for k, n in shown], left_out


def _method(
    session: Session, campaign: Campaign, minimum: int
) -> tuple[Method, dict[int, tuple[str, str]]]:
    """Method figures and {wall id: (title, audience)}."""
    rows = session.execute(
        select(
            Answer.wall_id,
            Answer.prompt_id,
            Answer.channel,
            Answer.area,
            Answer.place,
            Answer.created_at,
            Answer.written_on,
            answer_audience(),
        )
        .join(Wall, Answer.wall_id == Wall.id)
        .where(Wall.campaign_id == campaign.id, Answer.status == AnswerStatus.APPROVED)
    ).all()
    total = len(rows)
    per_prompt = Counter(r[1] for r in rows)
    per_wall = Counter(r[0] for r in rows)
    channels = Counter(Channel(r[2]).value for r in rows)
    areas = Counter(r[3] for r in rows if r[3])
    places = Counter(
        r[4].strip()
        for r in rows
        if r[4] and r[4].strip() and Channel(r[2]) in (Channel.PAPER, Channel.EVENT)
    )
    audiences = Counter(str(r[7]) for r in rows)
    days = [day_of(r[5], r[6]) for r in rows]
    by_audience, _left_out = _pooled(audiences, total, minimum)
    by_area, areas_left_out = _pooled(areas, total, minimum)
    walls = [
        WallFigure(
            title=w.title,
            slug=w.slug,
            audience=w.audience.value,
            count=per_wall.get(w.id, 0),
            prompts=[
                PromptFigure(p.position + 1, p.text, per_prompt.get(p.id, 0)) for p in w.prompts
            ],
        )
        for w in campaign.walls
    ]
    method = Method(
        total=total,
        first_day=min(days) if days else None,
        last_day=max(days) if days else None,
        by_audience=by_audience,
        by_channel=[
            Tally(c.value, channels[c.value], channels[c.value] / total)
            for c in Channel
            if channels.get(c.value)
        ],
        by_area=by_area,
        no_area=total - sum(areas.values()) + areas_left_out,
        places=[Tally(k, n, n / total) for k, n in sorted(places.items(), key=lambda i: -i[1])],
        walls=walls,
        kiosk=channels.get(Channel.KIOSK.value, 0),
        event=channels.get(Channel.EVENT.value, 0),
        paper=channels.get(Channel.PAPER.value, 0),
    )
    wall_info = {w.id: (w.title, w.audience.value) for w in campaign.walls}
    return method, wall_info


# -- themes and quotes -------------------------------------------------------------------------


def _curation(session: Session, campaign: Campaign) -> ThemeCuration | None:
    return session.scalars(
        select(ThemeCuration).where(ThemeCuration.scope_key == Scope(campaign.id).key)
    ).first()


def _pinned(curation: ThemeCuration | None) -> dict[str, list[int]]:
    """{theme key: pinned answer ids} from the staff's curation (ignoring malformed data)."""
    raw = ((curation.data or {}) if curation else {}).get("pinned") or {}
    if not isinstance(raw, dict):
        return {}
    pinned: dict[str, list[int]] = {}
    for key, ids in raw.items():
        if isinstance(ids, list):
            pinned[str(key)] = [int(i) for i in ids if _is_id(i)]
    return pinned


def _is_id(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value > 0
    return isinstance(value, str) and value.isascii() and value.isdecimal() and len(value) < 12


def _members(session: Session, run: ThemeRun) -> dict[int, list[int]]:
    """{theme id: ids of its *approved* member answers, oldest first}."""
    rows = session.execute(
        select(ThemeAssignment.theme_id, ThemeAssignment.answer_id)
        .join(Answer, Answer.id == ThemeAssignment.answer_id)
        .where(ThemeAssignment.run_id == run.id, Answer.status == AnswerStatus.APPROVED)
        .order_by(ThemeAssignment.answer_id)
    ).all()
    members: dict[int, list[int]] = {}
    for theme_id, answer_id in rows:
        members.setdefault(theme_id, []).append(answer_id)
    return members


def _choose_quotes(
    theme: Theme,
    members: Sequence[int],
    pinned: Sequence[int],
    lengths: dict[int, int],
    used: set[int],
) -> list[tuple[int, bool]]:
    """(answer id, pinned) for up to ``QUOTES_MAX`` quotes, all members of the theme.

    Pinned answers first, then the engine's representatives, then other members of a
    readable length; an answer already quoted under a bigger theme is used again only to
    reach ``QUOTES_MIN``.
    """
    member_set = set(members)
    chosen: list[tuple[int, bool]] = []
    seen: set[int] = set()

    def take(ids: Iterable[int], *, is_pinned: bool, allow_used: bool, limit: int) -> None:
        for answer_id in ids:
            if len(chosen) >= limit:
                return
            if answer_id in seen or answer_id not in member_set:
                continue
            if not allow_used and answer_id in used:
                continue
            seen.add(answer_id)
            chosen.append((answer_id, is_pinned))

    take(pinned, is_pinned=True, allow_used=True, limit=QUOTES_MAX)
    representatives = list(theme.representative_ids or [])
    take(representatives, is_pinned=False, allow_used=False, limit=QUOTES_MAX)
    others = sorted(members, key=lambda a: (lengths.get(a, 0) not in _GOOD_QUOTE, a))
    take(others, is_pinned=False, allow_used=False, limit=QUOTES_MAX)
    take(representatives + others, is_pinned=False, allow_used=True, limit=QUOTES_MIN)
    return chosen


def _themes(
    session: Session,
    campaign: Campaign,
    run: ThemeRun,
    wall_info: dict[int, tuple[str, str]],
    selection: _Selection | None = None,
) -> tuple[list[ReportTheme], int, int]:
    """The visible themes by size with quotes; also (total, unthemed) of the counts.

    Quotes are never answers the guard flagged or with a swear word. With a ``selection``
    (the public page) only its themes are shown, with its quotes and names.
    """
    counts = theme_counts(session, run)
    members = _members(session, run)
    pinned = _pinned(_curation(session, campaign))
    candidate_ids = {a for ids in members.values() for a in ids}
    answers = {
        a.id: a
        for a in session.scalars(
            select(Answer).where(
                Answer.id.in_(candidate_ids), Answer.status == AnswerStatus.APPROVED
            )
        )
    }
    answers = {i: a for i, a in answers.items() if quote_problem(a) is None}
    lengths = {a.id: len(a.text) for a in answers.values()}
    named = staff_named(session, run)
    used: set[int] = set()
    result: list[ReportTheme] = []
    for item in counts.themes:
        theme = item.theme
        label = theme.label
        if selection is None:
            chosen = _choose_quotes(
                theme, members.get(theme.id, []), pinned.get(theme.key, []), lengths, used
            )
        elif theme.key in selection.quotes:
            in_theme = set(members.get(theme.id, []))
            chosen = [(a, False) for a in selection.quotes[theme.key] if a in in_theme]
            label = selection.labels.get(theme.key, label)
        else:
            continue
        quotes: list[Quote] = []
        for answer_id, is_pinned in chosen:
            answer = answers.get(answer_id)
            if answer is None:
                continue
            used.add(answer_id)
            title, wall_audience = wall_info.get(answer.wall_id, ("", ""))
            quotes.append(
                Quote(
                    answer_id=answer.id,
                    text=safe_text(answer),
                    wall=title,
                    audience=_audience(answer.role, wall_audience),
                    day=day_of(answer.created_at, answer.written_on),
                    pinned=is_pinned,
                )
            )
        result.append(
            ReportTheme(
                theme_id=theme.id,
                key=theme.key,
                label=public_label(label),
                description=theme.description or "",
                count=item.count,
                share=item.share,
                terms=public_terms(theme.terms or [])[:TOP_TERMS],
                quotes=quotes,
                named=theme.key in named or theme.key in (selection.labels if selection else {}),
            )
        )
    return result, counts.total, counts.unthemed


#: Who a quote is from when a professional wrote it (never "everyone", the wall's audience).
PROFESSIONAL_KEY = "professional"


def _audience(role: str | None, wall_audience: str) -> str:
    if role == "professional":
        return PROFESSIONAL_KEY
    return audience_of(role, wall_audience) if wall_audience else ""


def _replies(session: Session, campaign: Campaign) -> list[ReplyItem]:
    rows = session.execute(
        select(WallReply, Wall.title, Wall.slug, Wall.language)
        .join(Wall, WallReply.wall_id == Wall.id)
        .where(Wall.campaign_id == campaign.id, WallReply.is_hidden.is_(False))
        .order_by(WallReply.created_at.desc(), WallReply.id.desc())
    ).all()
    return [
        ReplyItem(
            wall=title,
            wall_slug=slug,
            text=reply.text,
            day=reply.created_at.date(),
            lang=language,
            translations=dict(reply.translations or {}),
        )
        for reply, title, slug, language in rows
    ]


def _has_areas(session: Session, campaign: Campaign) -> bool:
    if any(w.areas for w in campaign.walls):
        return True
    return (
        session.scalar(
            select(Answer.id)
            .join(Wall, Answer.wall_id == Wall.id)
            .where(Wall.campaign_id == campaign.id, Answer.area.is_not(None))
            .limit(1)
        )
        is not None
    )


def build_report(
    session: Session,
    campaign: Campaign,
    *,
    draft: bool = False,
    with_breakdowns: bool = True,
    min_group_size: int = MIN_GROUP_SIZE,
) -> Report:
    """Everything the campaign's report shows.

    A published campaign's report shows the published run, its themes named and quoted as
    published (``ReportVersion.PUBLISHED``). Otherwise, or with ``draft``, it shows the latest
    campaign-wide run with all its visible themes (``ReportVersion.DRAFT``). Without a run
    the report has the method and the replies but no themes.
    """
    if not draft and campaign.published_at is not None:
        run = published_run(session, campaign)
        if run is not None:
            selection = _published_selection(session, campaign, run)
            return _build(
                session,
                campaign,
                run,
                with_breakdowns,
                min_group_size,
                selection,
                version=ReportVersion.PUBLISHED,
            )
    run = campaign_run(session, campaign)
    return _build(session, campaign, run, with_breakdowns, min_group_size)


def _published_selection(session: Session, campaign: Campaign, run: ThemeRun) -> _Selection:
    """The themes and quotes published of ``run``: the staff-named themes, with the quotes
    staff confirmed (or, published before the review step, the report's first ones)."""
    named = staff_named(session, run)
    if campaign.published_themes is not None:
        chosen = {k: list(v) for k, v in campaign.published_themes.items() if k in named}
    else:
        report = _build(session, campaign, run, False, MIN_GROUP_SIZE)
        chosen = {
            t.key: [q.answer_id for q in t.quotes[:PUBLIC_QUOTES]]
            for t in report.themes
            if t.key in named
        }
    return _Selection(chosen)


def build_public_report(session: Session, slug: str) -> Report:
    """The public "Det har vi hørt" page of a published campaign, or :class:`NotFound`.

    It shows the published run's themes (none when that run no longer exists) and no
    breakdowns.
    """
    campaign = session.scalars(select(Campaign).where(Campaign.slug == slug)).first()
    if campaign is None or campaign.published_at is None:
        raise NotFound(N_("This page does not exist."), code="not_published")
    run = published_run(session, campaign)
    if run is None:
        return _build(session, campaign, None, False, MIN_GROUP_SIZE)
    selection = _published_selection(session, campaign, run)
    return _build(
        session, campaign, run, False, MIN_GROUP_SIZE, selection, version=ReportVersion.PUBLISHED
    )


def _build(
    session: Session,
    campaign: Campaign,
    run: ThemeRun | None,
    with_breakdowns: bool,
    min_group_size: int,
    selection: _Selection | None = None,
    *,
    version: ReportVersion = ReportVersion.DRAFT,
) -> Report:
    method, wall_info = _method(session, campaign, min_group_size)
    themes: list[ReportTheme] = []
    breakdowns: list[Breakdown] = []
    if run is not None:
        themes, _total, unthemed = _themes(session, campaign, run, wall_info, selection)
        curation = _curation(session, campaign)
        method = replace(
            method,
            run_at=run.created_at,
            run_answers=run.n_answers,
            requested_themes=run.requested_themes,
            themes_shown=len(themes),
            themes_hidden=sum(1 for t in run.themes if t.hidden),
            themes_described=sum(1 for t in themes if t.description.strip()),
            curated=bool(curation and (curation.data or curation.descriptions)),
            unthemed=unthemed,
        )
        if with_breakdowns:
            breakdowns.append(
                theme_breakdown(session, run, Dimension.AUDIENCE, min_group_size=min_group_size)
            )
            if _has_areas(session, campaign):
                breakdowns.append(
                    theme_breakdown(session, run, Dimension.AREA, min_group_size=min_group_size)
                )
    closed = _closed_results(session, campaign)
    return Report(
        campaign_id=campaign.id,
        slug=campaign.slug,
        title=campaign.title,
        description=campaign.description or "",
        organisation=campaign.organisation.display_name or campaign.organisation.name,
        language=campaign.language or "da",
        is_demo=campaign.is_demo,
        generated_at=utcnow(),
        method=method,
        run_id=run.id if run is not None else None,
        themes=themes,
        replies=_replies(session, campaign),
        breakdowns=breakdowns,
        published_at=campaign.published_at,
        published_run_id=campaign.published_run_id,
        organisation_id=campaign.organisation_id,
        version=version,
        closed=closed,
        closed_breakdowns={
            result.prompt.id: _closed_breakdowns(session, result.prompt, min_group_size)
            for result in closed
        },
    )


#: Follow-up texts quoted per answer in the report.
CLOSED_QUOTES = 2


def _closed_breakdowns(
    session: Session, prompt: Prompt, min_group_size: int
) -> list[QuestionResult]:
    found = [
        question_result(session, prompt, dimension, min_group_size=min_group_size)
        for dimension in ResultDimension
    ]
    return [result for result in found if len(result.groups) >= 2]


def _closed_results(session: Session, campaign: Campaign) -> list[QuestionResult]:
    """The closed questions' results, their follow-ups cut to those fit to quote."""
    found = [r for _wall, results in campaign_results(session, campaign.id) for r in results]
    for result in found:
        quotable = {
            option: [a for a in answers if quote_problem(a) is None][:CLOSED_QUOTES]
            for option, answers in result.follow_ups.items()
        }
        result.follow_ups = {option: quotes for option, quotes in quotable.items() if quotes}
    return found
