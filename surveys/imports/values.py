"""The values of one row: an import's options and the parsing of dates, channels, places
and profile answers into the columns of a new answer; the keys that find duplicates."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..answers import (
    findings_json,
    initial_status,
)
from ..closed import clean_value
from ..errors import N_, DomainError
from ..models import (
    AGE_GROUP_CODES,
    ROLE_CODES,
    Answer,
    Channel,
    Prompt,
    PromptKind,
    Wall,
    utcnow,
)
from ..privacy import detect_personal_data
from ..text import normalise_answer
from .messages import quote

LOCAL_ZONE = ZoneInfo("Europe/Copenhagen")


MAX_PLACE_LENGTH = 200


@dataclass(frozen=True)
class ImportOptions:
    """Values for rows that do not give them, and what to do with duplicates and bad rows."""

    prompt_id: int | None = None
    channel: Channel | None = None  # None: "api" for JSON Lines, "paper" for spreadsheets
    place: str | None = None
    written_on: date | None = None
    profile: Mapping[str, str] = field(default_factory=dict)
    keep_duplicates: bool = False
    skip_invalid: bool = False
    today: date | None = None  # for tests: "today" in Copenhagen


CHANNEL_NAMES: dict[str, Channel] = {
    **{c.value: c for c in Channel},
    "papir": Channel.PAPER,
    "mobil": Channel.WEB,
    "telefon": Channel.WEB,
    "internet": Channel.WEB,
    "tablet": Channel.KIOSK,
    "arrangement": Channel.EVENT,
    "begivenhed": Channel.EVENT,
}
#: Danish and English labels accepted for the coded profile answers (codes are accepted too).
ROLE_NAMES = {
    "forælder": "parent",
    "forældre": "parent",
    "kommende forælder": "expecting",
    "vordende forælder": "expecting",
    "gravid": "expecting",
    "ung": "young",
    "fagperson": "professional",
    "andet": "other",
    "parent": "parent",
    "expecting a child": "expecting",
    "young person": "young",
    "working with children": "professional",
}


_DATE_DMY = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})$")


PROFILE_MESSAGES = {
    "role": (
        N_("This wall does not ask about the role, so %(value)s cannot be stored."),
        N_("%(value)s is not one of the roles (parent, expecting, young, professional, other)."),
    ),
    "age_group": (
        N_("This wall does not ask about the age group, so %(value)s cannot be stored."),
        N_("%(value)s is not one of the age groups (0-2, 3-5, 6-12, 13-17, 18-24)."),
    ),
    "area": (
        N_("This wall does not ask about the area, so %(value)s cannot be stored."),
        N_("%(value)s is not one of the wall's areas."),
    ),
}


class RowError(Exception):
    """A row that cannot be imported; carries the :class:`Issue`."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


def today_local() -> date:
    """Today's date in Copenhagen."""
    return utcnow().astimezone(LOCAL_ZONE).date()


def local_day(moment: datetime) -> date:
    """The Copenhagen date of an aware timestamp."""
    return moment.astimezone(LOCAL_ZONE).date()


def created_at_for(day: date | None, now: datetime) -> datetime:
    """When an answer written on ``day`` counts as created: noon in Copenhagen (never later
    than now); ``now`` when no date is known."""
    if day is None:
        return now
    noon = datetime.combine(day, time(12), LOCAL_ZONE).astimezone(UTC)
    return min(noon, now)


def parse_date(value: str, today: date) -> date:
    """A date as written in Denmark (24-11-2025, 24.11.2025, 24/11/2025) or ISO (2025-11-24,
    also an ISO timestamp); not in the future."""
    raw = value.strip()
    parsed: date | None = None
    try:
        if "T" in raw or " " in raw.strip():
            moment = datetime.fromisoformat(raw.replace(" ", "T", 1))
            parsed = local_day(moment) if moment.tzinfo else moment.date()
        else:
            parsed = date.fromisoformat(raw)
    except ValueError:
        match = _DATE_DMY.match(raw)
        if match:
            day, month, year = (int(g) for g in match.groups())
            try:
                parsed = date(year, month, day)
            except ValueError:
                parsed = None
    if parsed is None:
        raise RowError(
            N_("%(value)s is not a date. Write dates as 24-11-2025 or 2025-11-24."),
            value=quote(raw),
        )
    if parsed > today:
        raise RowError(N_("The date %(value)s is in the future."), value=parsed.isoformat())
    return parsed


def parse_channel(value: str) -> Channel:
    """A channel from its code or Danish name (papir, web, kiosk, arrangement, api)."""
    channel = CHANNEL_NAMES.get(value.strip().casefold())
    if channel is None:
        raise RowError(
            N_("%(value)s is not a channel. Use paper, web, kiosk, event or api."),
            value=quote(value),
        )
    return channel


def clean_place(value: str | None) -> str | None:
    """The event or place, on one line, at most ``MAX_PLACE_LENGTH`` characters."""
    if value is None:
        return None
    place = " ".join(normalise_answer(value).split())
    if len(place) > MAX_PLACE_LENGTH:
        raise RowError(
            N_("The place is too long: at most %(max)d characters."), max=MAX_PLACE_LENGTH
        )
    return place or None


def profile_code(wall: Wall, name: str, value: str) -> str:
    """The stored code of a profile value given as a code or a Danish/English label."""
    raw = " ".join(value.split())
    folded = raw.casefold().replace("–", "-")
    if name not in wall.profile_questions:
        raise RowError(PROFILE_MESSAGES[name][0], value=quote(raw))
    if name == "role":
        code = folded if folded in ROLE_CODES else ROLE_NAMES.get(folded)
    elif name == "age_group":
        code = folded.removesuffix("år").removesuffix("years").replace(" ", "")
        code = code if code in AGE_GROUP_CODES else None
    else:
        code = next((a for a in wall.areas if a.casefold() == folded), None)
    if code is None:
        raise RowError(PROFILE_MESSAGES[name][1], value=quote(raw))
    return code


def duplicate_key(text: str) -> str:
    """Normalised texts that differ only in case and spacing are the same answer."""
    return " ".join(text.casefold().split())


def answer_values(
    wall: Wall,
    prompt: Prompt,
    text: str,
    *,
    channel: Channel,
    client_submission_id: str,
    now: datetime,
    written_on: date | None = None,
    place: str | None = None,
    profile: Mapping[str, str] | None = None,
    language: str | None = None,
    value: Any = None,
) -> dict[str, Any]:
    """The column values of a new answer from paper or a file (``text`` already cleaned;
    empty beside a closed question's ``value``).

    Runs the personal-data guard; the status is what a web answer would get.
    """
    findings = detect_personal_data(text) if text else []
    return {
        "wall_id": wall.id,
        "prompt_id": prompt.id,
        "text": text,
        "value": value,
        "created_at": created_at_for(written_on, now),
        "channel": channel,
        "client_submission_id": client_submission_id,
        "status": initial_status(wall, findings, text),
        "pii_findings": findings_json(findings),
        "language": language,
        "role": None,
        "age_group": None,
        "area": None,
        **dict(profile or {}),
        "device_id": None,
        "place": place,
        "written_on": written_on,
    }


def stored_keys(
    session: Session, wall_ids: Iterable[int]
) -> tuple[set[tuple[int, str, date]], set[tuple[int, str]]]:
    """(wall, text key, day) and (wall, submission id) of the answers stored on the walls."""
    ids = list(wall_ids)
    texts: set[tuple[int, str, date]] = set()
    submissions: set[tuple[int, str]] = set()
    if not ids:
        return texts, submissions
    stmt = select(
        Answer.wall_id,
        Answer.text,
        Answer.written_on,
        Answer.created_at,
        Answer.client_submission_id,
    ).where(Answer.wall_id.in_(ids))
    for wall_id, text, written_on, created_at, submission in session.execute(stmt):
        texts.add((wall_id, duplicate_key(text), written_on or local_day(created_at)))
        submissions.add((wall_id, submission))
    return texts, submissions


def parse_choice(prompt: Prompt, choice: str) -> Any:
    """A closed question's value from a file's choice as the export writes it: a scale's
    number, an option's label, or labels joined by "; " (None for an empty choice)."""
    choice = choice.strip()
    if not choice:
        return None
    if prompt.kind is PromptKind.TEXT:
        raise RowError(
            N_("The question %(question)s takes written answers only, but the row has a choice."),
            question=quote(prompt.text),
        )
    if prompt.kind is PromptKind.SCALE:
        raw: Any = int(choice) if choice.isdecimal() and len(choice) < 3 else choice
    else:
        ids = {str(o.get("label", "")).casefold(): str(o["id"]) for o in prompt.options}
        labels = [part.strip() for part in choice.split(";") if part.strip()]
        unknown = [label for label in labels if label.casefold() not in ids]
        if unknown:
            raise RowError(
                N_("%(value)s is not one of the question's options."), value=quote(unknown[0])
            )
        chosen = [ids[label.casefold()] for label in labels]
        raw = chosen if prompt.kind is PromptKind.MULTIPLE else chosen[0]
        if prompt.kind is PromptKind.SINGLE and len(chosen) > 1:
            raise RowError(N_("The question takes one choice, but the row has several."))
    try:
        return clean_value(prompt, raw)
    except DomainError as error:
        raise RowError(error.message, **error.params) from error
