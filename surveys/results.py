"""Results of closed questions (issue 26): counts, shares with their uncertainty, the
follow-up answers grouped by the choice given, and breakdowns by group.

Every answer with a value is counted, whatever its status: a choice has no text to moderate,
and hiding a follow-up text does not take back the choice. An answer whose value no longer
fits the question (given before staff changed it, kept as sent) is counted apart, in
``earlier``. A multiple choice's shares are of the people who answered, so they can add up
to more than 100 %.

Shares carry a 95 % Wilson score interval (scipy's ``binomtest``): with 12 answers, "58 %"
is really "somewhere between 32 % and 81 %", and the page says so.

Breakdowns follow the small-group rule of :mod:`surveys.insights`: a group of fewer than 5
people is never shown on its own.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import closed
from .insights import MIN_GROUP_SIZE, pool_small_groups
from .models import AGE_GROUP_CODES, ROLE_CODES, Answer, AnswerStatus, Prompt, PromptKind, Wall

#: Follow-up texts shown per option.
FOLLOW_UPS_SHOWN = 5
CONFIDENCE = 0.95


class ResultDimension(enum.StrEnum):
    """The "om dig" answers a result can be broken down by."""

    ROLE = "role"
    AGE_GROUP = "age_group"
    AREA = "area"


@dataclass(frozen=True)
class OptionCount:
    """How many chose one option, and their share of the people who answered."""

    option_id: str
    count: int
    share: float
    low: float  # the share's 95 % interval
    high: float


@dataclass(frozen=True)
class GroupResult:
    """One group's answers (a role, an age group, an area, or the pooled "other")."""

    key: str
    respondents: int
    options: list[OptionCount]


@dataclass
class QuestionResult:
    """A closed question's results on its wall."""

    prompt: Prompt
    respondents: int  # answers with a value that fits the question
    options: list[OptionCount]  # in the question's order
    mean: float | None  # a scale's mean value
    earlier: int  # values that no longer fit (answers to an earlier version of the question)
    text_only: int  # answers with a follow-up text and no choice
    #: option id -> approved follow-up texts of people who chose it (newest first)
    follow_ups: dict[str, list[Answer]] = field(default_factory=dict)
    groups: list[GroupResult] = field(default_factory=list)
    suppressed: int = 0  # people in groups too small to show
    unknown: int = 0  # people who did not say (for the dimension)
    dimension: ResultDimension | None = None  # what ``groups`` are groups of


def wilson_interval(count: int, total: int) -> tuple[float, float]:
    """The 95 % Wilson score interval of ``count`` out of ``total`` ((0, 0) for none)."""
    if total <= 0:
        return 0.0, 0.0
    from scipy.stats import binomtest  # imported on first use: scipy is slow to load

    interval = binomtest(count, total).proportion_ci(CONFIDENCE, method="wilson")
    return float(interval.low), float(interval.high)


def _chosen(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _option_counts(prompt: Prompt, values: Sequence[Any]) -> list[OptionCount]:
    counts = Counter(option for value in values for option in _chosen(value))
    total = len(values)
    result = []
    for option_id in closed.option_ids(prompt):
        count = counts[option_id]
        low, high = wilson_interval(count, total)
        share = count / total if total else 0.0
        result.append(OptionCount(option_id, count, share, low, high))
    return result


def question_result(
    session: Session,
    prompt: Prompt,
    dimension: ResultDimension | None = None,
    *,
    min_group_size: int = MIN_GROUP_SIZE,
) -> QuestionResult:
    """The results of one closed question, broken down along ``dimension`` if given."""
    answers = list(
        session.scalars(
            select(Answer)
            .where(Answer.prompt_id == prompt.id)
            .order_by(Answer.created_at.desc(), Answer.id.desc())
        )
    )
    fitting = [a for a in answers if a.value is not None and closed.fits(prompt, a.value)]
    values = [a.value for a in fitting]
    mean = None
    if prompt.kind is PromptKind.SCALE and values:
        mean = sum(int(v) for v in values) / len(values)
    result = QuestionResult(
        prompt=prompt,
        respondents=len(fitting),
        options=_option_counts(prompt, values),
        mean=mean,
        earlier=sum(1 for a in answers if a.value is not None and not closed.fits(prompt, a.value)),
        text_only=sum(1 for a in answers if a.value is None and a.text),
    )
    for answer in fitting:
        if answer.status is not AnswerStatus.APPROVED or not answer.text:
            continue
        for option_id in _chosen(answer.value):
            shown = result.follow_ups.setdefault(option_id, [])
            if len(shown) < FOLLOW_UPS_SHOWN:
                shown.append(answer)
    if dimension is not None:
        _break_down(result, fitting, ResultDimension(dimension), min_group_size)
    return result


def _break_down(
    result: QuestionResult,
    fitting: Sequence[Answer],
    dimension: ResultDimension,
    min_group_size: int,
) -> None:
    keys = [getattr(a, dimension.value) or None for a in fitting]
    sizes = Counter(k for k in keys if k is not None)
    known_order = {ResultDimension.ROLE: ROLE_CODES, ResultDimension.AGE_GROUP: AGE_GROUP_CODES}
    order = sorted(
        sizes,
        key=lambda k: (
            list(known_order.get(dimension, ())).index(k)
            if k in known_order.get(dimension, ())
            else len(known_order.get(dimension, ())),
            -sizes[k],
            k,
        ),
    )
    target, group_sizes, suppressed = pool_small_groups(sizes, order, min_group_size)
    values: dict[str, list[Any]] = {key: [] for key in group_sizes}
    for answer, key in zip(fitting, keys, strict=True):
        if key is not None and key in target:
            values[target[key]].append(answer.value)
    result.groups = [
        GroupResult(key, group_sizes[key], _option_counts(result.prompt, values[key]))
        for key in group_sizes
    ]
    result.suppressed = suppressed
    result.unknown = sum(1 for k in keys if k is None)
    result.dimension = dimension


def campaign_results(
    session: Session, campaign_id: int, dimension: ResultDimension | None = None
) -> list[tuple[Wall, list[QuestionResult]]]:
    """The results of every closed question of the campaign, wall by wall."""
    walls = session.scalars(
        select(Wall).where(Wall.campaign_id == campaign_id).order_by(Wall.id)
    ).all()
    return [
        (wall, [question_result(session, p, dimension) for p in wall.prompts if p.is_closed])
        for wall in walls
        if any(p.is_closed for p in wall.prompts)
    ]
