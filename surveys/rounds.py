"""Rounds (issue 26): a campaign run again (spring 2026, then spring 2027), and how its
closed questions compare with the earlier round's.

:func:`run_again` makes the next round: a new campaign with the same walls, questions (their
kinds, options with the same ids, follow-ups, texts in other languages) and codebook, each
question linked to the one it repeats (``Prompt.previous_prompt_id``). The new walls have
new addresses and open at once, like any new wall (staff set their window on the wall page).

:func:`compare_rounds` sets each closed question's result beside the earlier round's. A
change is claimed only when the numbers carry it: the 95 % interval of the difference between
the two shares (Newcombe's hybrid score interval, built from the two Wilson intervals) must
leave out zero, and each round must have at least :data:`MIN_TO_COMPARE` answers; a scale's
mean is compared with Welch's t interval. Otherwise the page says "no clear change", whatever
the two percentages look like.
"""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, campaigns, organisations
from .errors import N_, InvalidInput
from .insights import ThemeCount, theme_counts
from .models import (
    Answer,
    AnswerStatus,
    Campaign,
    CodebookTheme,
    Prompt,
    PromptKind,
    StaffUser,
    Theme,
    Wall,
)
from .results import OptionCount, QuestionResult, question_result, wilson_interval
from .themes import Scope, latest_run

#: Fewer answers than this in either round: the page compares no shares.
MIN_TO_COMPARE = 10


@dataclass(frozen=True)
class RoundInput:
    """The next round as staff name it."""

    title: str
    slug: str
    round_label: str


def rounds_of(session: Session, campaign: Campaign) -> list[Campaign]:
    """The campaign's earlier rounds, newest first (the campaign itself not included)."""
    found: list[Campaign] = []
    seen = {campaign.id}
    previous_id = campaign.previous_round_id
    while previous_id is not None and previous_id not in seen:
        earlier = session.get(Campaign, previous_id)
        if earlier is None or earlier.organisation_id != campaign.organisation_id:
            break
        found.append(earlier)
        seen.add(earlier.id)
        previous_id = earlier.previous_round_id
    return found


def run_again(session: Session, actor: StaffUser, campaign: Campaign, data: RoundInput) -> Campaign:
    """The campaign's next round, with its walls, questions and codebook: one change,
    committed with its audit entry."""
    label = " ".join(data.round_label.split())
    if not label or len(label) > 100:
        raise InvalidInput(
            N_("Name the round, e.g. \u201cSpring 2027\u201d (at most 100 characters)."),
            code="invalid_round_label",
        )
    organisations.ensure_controller(campaign.organisation)
    new = campaigns.add_campaign(
        session,
        actor,
        campaigns.CampaignInput(
            slug=data.slug,
            title=data.title,
            description=campaign.description,
            retention_months=campaign.retention_months,
            retention_action=campaign.retention_action,
            privacy_purpose=campaign.privacy_purpose,
        ),
    )
    new.language = campaign.language
    new.previous_round_id = campaign.id
    new.round_label = label
    if not campaign.round_label:
        # the first round gets a name too, so that the pages can tell the two apart
        campaign.round_label = str(campaign.created_at.year)
    for wall in campaign.walls:
        _copy_wall(session, new, wall)
    for theme in session.scalars(
        select(CodebookTheme).where(CodebookTheme.campaign_id == campaign.id)
    ):
        session.add(
            CodebookTheme(
                campaign_id=new.id,
                position=theme.position,
                name=theme.name,
                description=theme.description,
                keywords=list(theme.keywords),
            )
        )
    session.flush()
    audit.commit_change(
        session,
        organisation_id=campaign.organisation_id,
        actor=actor,
        action="campaign.run_again",
        target_type="campaign",
        target_id=new.id,
        after={
            **audit.snapshot(new, campaigns.CAMPAIGN_FIELDS),
            "previous_round_id": campaign.id,
            "round_label": label,
            "walls": [w.slug for w in new.walls],
        },
    )
    return new


def _copy_wall(session: Session, campaign: Campaign, wall: Wall) -> Wall:
    copy = Wall(
        campaign_id=campaign.id,
        # The next free number after the slug's own: "ung" and "ung-2" give "ung-2", "ung-3".
        slug=campaigns.free_slug(session, Wall, re.sub(r"-\d+$", "", wall.slug)[:58]),
        title=wall.title,
        intro=wall.intro,
        audience=wall.audience,
        language=wall.language,
        languages=list(wall.languages),
        moderation=wall.moderation,
        opens_at=None,
        closes_at=None,
        profile_questions=list(wall.profile_questions),
        areas=list(wall.areas),
        translations=dict(wall.translations or {}),
        prompts=[
            Prompt(
                position=p.position,
                text=p.text,
                translations=dict(p.translations or {}),
                kind=p.kind,
                options=[dict(o) for o in p.options],
                follow_up=p.follow_up,
                previous_prompt_id=p.id,
            )
            for p in wall.prompts
        ],
    )
    session.add(copy)
    session.flush()
    return copy


@dataclass(frozen=True)
class OptionChange:
    """One option's share in the earlier round and now, and what the difference can carry."""

    option_id: str
    before: OptionCount | None  # None: the option is new in this round
    after: OptionCount
    difference: float  # after - before, in shares (0.05 = 5 percentage points)
    low: float  # the difference's 95 % interval
    high: float
    changed: bool  # the interval leaves out zero and both rounds have enough answers


@dataclass(frozen=True)
class MeanChange:
    """A scale's mean in both rounds and the 95 % interval of its difference (Welch)."""

    before: float
    after: float
    low: float
    high: float
    changed: bool


@dataclass(frozen=True)
class QuestionChange:
    """A closed question now and in the earlier round."""

    prompt: Prompt
    before: QuestionResult
    after: QuestionResult
    options: list[OptionChange]
    mean: MeanChange | None
    comparable: bool  # both rounds have at least MIN_TO_COMPARE answers


def share_difference(before: OptionCount, after: OptionCount) -> tuple[float, float, float]:
    """The difference of two shares and its 95 % interval (Newcombe's hybrid score method,
    from the two Wilson intervals)."""
    difference = after.share - before.share
    low = difference - math.hypot(after.share - after.low, before.high - before.share)
    high = difference + math.hypot(after.high - after.share, before.share - before.low)
    return difference, max(-1.0, low), min(1.0, high)


def _mean_change(before: QuestionResult, after: QuestionResult) -> MeanChange | None:
    old = [float(v) for v in _scale_values(before)]
    new = [float(v) for v in _scale_values(after)]
    if len(old) < 2 or len(new) < 2:
        return None
    from scipy.stats import ttest_ind  # imported on first use: scipy is slow to load

    test = ttest_ind(new, old, equal_var=False)
    interval = test.confidence_interval(0.95)
    low, high = float(interval.low), float(interval.high)
    if math.isnan(low) or math.isnan(high):  # no spread in either round
        low = high = sum(new) / len(new) - sum(old) / len(old)
    comparable = min(len(old), len(new)) >= MIN_TO_COMPARE
    return MeanChange(
        before=sum(old) / len(old),
        after=sum(new) / len(new),
        low=low,
        high=high,
        changed=comparable and (low > 0 or high < 0),
    )


def _scale_values(result: QuestionResult) -> list[int]:
    values: list[int] = []
    for count in result.options:
        values.extend([int(count.option_id)] * count.count)
    return values


def compare_question(session: Session, prompt: Prompt) -> QuestionChange | None:
    """The closed ``prompt`` beside the same question in the earlier round (None when it has
    none, or it was not the same kind of question there)."""
    previous = session.get(Prompt, prompt.previous_prompt_id) if prompt.previous_prompt_id else None
    if previous is None or not prompt.is_closed or previous.kind is not prompt.kind:
        return None
    before = question_result(session, previous)
    after = question_result(session, prompt)
    comparable = min(before.respondents, after.respondents) >= MIN_TO_COMPARE
    earlier = {o.option_id: o for o in before.options}
    options = []
    for count in after.options:
        old = earlier.get(count.option_id)
        if old is None:
            options.append(OptionChange(count.option_id, None, count, 0.0, 0.0, 0.0, False))
            continue
        difference, low, high = share_difference(old, count)
        changed = comparable and (low > 0 or high < 0)
        options.append(OptionChange(count.option_id, old, count, difference, low, high, changed))
    mean = _mean_change(before, after) if prompt.kind is PromptKind.SCALE else None
    return QuestionChange(prompt, before, after, options, mean, comparable)


def compare_rounds(session: Session, campaign: Campaign) -> dict[int, QuestionChange]:
    """{prompt id: its comparison} for the campaign's closed questions that were asked in the
    earlier round too."""
    changes: dict[int, QuestionChange] = {}
    for wall in campaign.walls:
        for prompt in wall.prompts:
            change = compare_question(session, prompt)
            if change is not None:
                changes[prompt.id] = change
    return changes


# -- themes across rounds ------------------------------------------------------------------------


class ThemeTrend(enum.StrEnum):
    """What became of a theme between the rounds."""

    GREW = "grew"
    SHRANK = "shrank"
    STEADY = "steady"  # no change the numbers can carry
    APPEARED = "appeared"  # only in this round
    DISAPPEARED = "disappeared"  # only in the earlier round


@dataclass(frozen=True)
class ThemeChange:
    """A theme of either round, matched with its counterpart in the other when there is one."""

    before: ThemeCount | None
    after: ThemeCount | None
    trend: ThemeTrend
    difference: float  # the share now minus then (0 for an unmatched theme)
    low: float
    high: float
    quotes_before: list[Answer]
    quotes_after: list[Answer]


@dataclass(frozen=True)
class ThemeComparison:
    """The two rounds' latest campaign-wide theme runs, theme by theme."""

    earlier: Campaign
    total_before: int
    total_after: int
    changes: list[ThemeChange]


#: How alike two themes' key words must be to count as the same theme (Jaccard).
THEME_MATCH = 0.2
#: Quotes shown per theme and round.
ROUND_QUOTES = 2


def _words_of(theme: Theme) -> set[str]:
    words = {w.casefold() for term in theme.terms for w in term.split()}
    words.update(w.casefold() for w in theme.label.replace("·", " ").split())
    return words


def match_themes(before: list[Theme], after: list[Theme]) -> list[tuple[int, int]]:
    """Pairs (index in ``before``, index in ``after``) of the same theme in two runs: the same
    codebook theme, else the most alike key words (at least :data:`THEME_MATCH`), each theme
    in one pair at most (the best overall, scipy's assignment)."""
    if not before or not after:
        return []
    from scipy.optimize import linear_sum_assignment

    score = [[0.0] * len(after) for _ in before]
    for i, old in enumerate(before):
        old_words = _words_of(old)
        for j, new in enumerate(after):
            if old.codebook and new.codebook:
                score[i][j] = 1.0 if old.codebook == new.codebook else 0.0
                continue
            new_words = _words_of(new)
            union = old_words | new_words
            score[i][j] = len(old_words & new_words) / len(union) if union else 0.0
    rows, columns = linear_sum_assignment([[-s for s in row] for row in score])
    return [(i, j) for i, j in zip(rows, columns, strict=True) if score[i][j] >= THEME_MATCH]


def _quotes(session: Session, theme: Theme | None) -> list[Answer]:
    if theme is None:
        return []
    from .report import quote_problem  # the report's rule for what may be quoted

    found: list[Answer] = []
    for answer_id in theme.representative_ids:
        answer = session.get(Answer, answer_id)
        if answer is None or answer.status is not AnswerStatus.APPROVED:
            continue
        if quote_problem(answer) is None:
            found.append(answer)
        if len(found) == ROUND_QUOTES:
            break
    return found


def _count(count: ThemeCount, total: int) -> OptionCount:
    low, high = wilson_interval(count.count, total)
    return OptionCount(str(count.theme.id), count.count, count.share, low, high)


def _size(change: ThemeChange) -> int:
    counted = change.after or change.before
    return counted.count if counted is not None else 0


def compare_themes(session: Session, campaign: Campaign) -> ThemeComparison | None:
    """The campaign's themes beside its earlier round's (None without an earlier round or
    without themes in both). A theme grew or shrank only when the interval of the
    difference of its shares leaves out zero and both rounds have enough answers."""
    earlier = rounds_of(session, campaign)[:1]
    if not earlier:
        return None
    run_before = latest_run(session, Scope(earlier[0].id).key)
    run_after = latest_run(session, Scope(campaign.id).key)
    if run_before is None or run_after is None:
        return None
    before = theme_counts(session, run_before)
    after = theme_counts(session, run_after)
    enough = min(before.total, after.total) >= MIN_TO_COMPARE
    pairs = match_themes([c.theme for c in before.themes], [c.theme for c in after.themes])
    changes: list[ThemeChange] = []
    for i, j in pairs:
        old, new = before.themes[i], after.themes[j]
        difference, low, high = share_difference(
            _count(old, before.total), _count(new, after.total)
        )
        trend = ThemeTrend.STEADY
        if enough and low > 0:
            trend = ThemeTrend.GREW
        elif enough and high < 0:
            trend = ThemeTrend.SHRANK
        changes.append(
            ThemeChange(
                old,
                new,
                trend,
                difference,
                low,
                high,
                _quotes(session, old.theme),
                _quotes(session, new.theme),
            )
        )
    matched_before = {i for i, _j in pairs}
    matched_after = {j for _i, j in pairs}
    for j, new in enumerate(after.themes):
        if j not in matched_after:
            changes.append(
                ThemeChange(
                    None, new, ThemeTrend.APPEARED, 0.0, 0.0, 0.0, [], _quotes(session, new.theme)
                )
            )
    for i, old in enumerate(before.themes):
        if i not in matched_before:
            changes.append(
                ThemeChange(
                    old,
                    None,
                    ThemeTrend.DISAPPEARED,
                    0.0,
                    0.0,
                    0.0,
                    _quotes(session, old.theme),
                    [],
                )
            )
    order = list(ThemeTrend)
    changes.sort(
        key=lambda c: (order.index(c.trend), -abs(c.difference), -_size(c)),
    )
    return ThemeComparison(earlier[0], before.total, after.total, changes)
