"""Filters on answers shared by the theme explorer, breakdowns and reports.

``AnswerFilter`` narrows a ``select()`` that joins ``Wall`` (audience, area, channel, prompt,
period, words searched for in the text). ``answer_audience`` and ``answer_day`` are the SQL
expressions for an answer's audience (its participant's role where given, otherwise the
wall's audience) and its day (the date written on a paper note, otherwise the day it arrived).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, literal, or_

from . import search as text_search
from .models import UTC, Answer, Audience, Channel, Wall

#: Participant roles that put an answer in the parents' or the young people's group.
_PARENT_ROLES = ("parent", "expecting")
_YOUNG_ROLES = ("young",)


def answer_audience() -> ColumnElement[str]:
    """SQL: "parents", "young" or "everyone" for an answer (needs ``Wall`` joined)."""
    return case(
        (Answer.role.in_(_PARENT_ROLES), literal(Audience.PARENTS.value)),
        (Answer.role.in_(_YOUNG_ROLES), literal(Audience.YOUNG.value)),
        else_=Wall.audience,
    )


def audience_of(role: str | None, wall_audience: Audience | str) -> str:
    """Python twin of ``answer_audience`` for rows already loaded."""
    if role in _PARENT_ROLES:
        return Audience.PARENTS.value
    if role in _YOUNG_ROLES:
        return Audience.YOUNG.value
    return Audience(wall_audience).value


def day_of(created_at: datetime, written_on: date | None) -> date:
    """The day an answer was given: the paper note's date, else the day it arrived (UTC)."""
    return written_on if written_on is not None else created_at.astimezone(UTC).date()


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


@dataclass(frozen=True)
class AnswerFilter:
    """Which answers to look at; ``None`` means "all"."""

    audience: Audience | None = None
    area: str | None = None
    channel: Channel | None = None
    prompt_id: int | None = None
    since: date | None = None  # inclusive
    until: date | None = None  # inclusive
    search: str | None = None  # words every answer must hold (surveys.search)

    @property
    def active(self) -> bool:
        """Whether any filter is set."""
        return any(getattr(self, f.name) is not None for f in fields(self))

    def without_search(self) -> AnswerFilter:
        """The same filter without the words searched for."""
        return replace(self, search=None)

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        """Add the filter's conditions to ``stmt`` (which must join ``Wall``)."""
        if self.audience is not None:
            stmt = stmt.where(answer_audience() == self.audience.value)
        if self.area is not None:
            stmt = stmt.where(Answer.area == self.area)
        if self.channel is not None:
            stmt = stmt.where(Answer.channel == self.channel)
        if self.prompt_id is not None:
            stmt = stmt.where(Answer.prompt_id == self.prompt_id)
        if self.since is not None:
            stmt = stmt.where(
                or_(
                    Answer.written_on >= self.since,
                    and_(Answer.written_on.is_(None), Answer.created_at >= _start(self.since)),
                )
            )
        if self.search is not None:
            stmt = stmt.where(text_search.matches(Answer.text, self.search))
        if self.until is not None:
            end = _start(self.until + timedelta(days=1))
            stmt = stmt.where(
                or_(
                    Answer.written_on <= self.until,
                    and_(Answer.written_on.is_(None), Answer.created_at < end),
                )
            )
        return stmt

    def to_args(self) -> dict[str, str]:
        """The filter as query-string arguments (only the set ones)."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out[f.name] = value.isoformat() if isinstance(value, date) else str(value)
        return out

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> AnswerFilter:
        """Parse query-string arguments; values that do not parse are ignored."""
        return cls(
            audience=_parse(Audience, args.get("audience")),
            area=(args.get("area") or "").strip()[:100] or None,
            channel=_parse(Channel, args.get("channel")),
            prompt_id=_parse_id(args.get("prompt_id")),
            since=_parse_date(args.get("since")),
            until=_parse_date(args.get("until")),
            search=text_search.clean_search(args.get("search")),
        )


def _parse(kind: type[Audience] | type[Channel], value: str | None) -> Any:
    try:
        return kind(value) if value else None
    except ValueError:
        return None


def _parse_id(value: str | None) -> int | None:
    if value and value.isascii() and value.isdecimal() and len(value) < 10:
        return int(value)
    return None


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value and len(value) == 10 else None
    except ValueError:
        return None
