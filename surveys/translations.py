"""Staff write a wall's texts in its other languages (see :mod:`surveys.languages`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from . import audit
from .campaigns import MAX_PROMPT_LENGTH, WALL_LANGUAGES, _same_org
from .errors import N_, InvalidInput
from .models import StaffUser, Wall
from .text import normalise_answer

MAX_TITLE_LENGTH = 200
MAX_INTRO_LENGTH = 2000
MAX_AREA_LENGTH = 100


@dataclass
class WallTextsInput:
    """A wall's texts in one other language; empty means "not written (yet)"."""

    title: str = ""
    intro: str = ""
    #: One name per area of the wall, in its order ([]: none given).
    areas: list[str] = field(default_factory=list)
    #: Question texts by prompt id.
    prompts: Mapping[int, str] = field(default_factory=dict)


def _line(value: str, max_length: int, message: str) -> str:
    cleaned = " ".join((value or "").split())
    if len(cleaned) > max_length:
        raise InvalidInput(message, code="text_too_long", max=max_length)
    return cleaned


def _areas(wall: Wall, names: Sequence[str]) -> list[str]:
    cleaned = [" ".join(name.split()) for name in names if name.strip()]
    if not cleaned:
        return []
    if len(cleaned) != len(wall.areas):
        raise InvalidInput(
            N_("Give one name per area, in the same order as the areas (%(num)d names)."),
            code="invalid_areas",
            num=len(wall.areas),
        )
    if any(len(name) > MAX_AREA_LENGTH for name in cleaned):
        raise InvalidInput(
            N_("An area name may have at most %(max)d characters."),
            code="invalid_areas",
            max=MAX_AREA_LENGTH,
        )
    return cleaned


def set_wall_texts(
    session: Session, actor: StaffUser, wall: Wall, lang: str, data: WallTextsInput
) -> Wall:
    """Store the wall's texts in ``lang`` (one of its languages other than its own)."""
    organisation_id = wall.campaign.organisation_id
    _same_org(actor, organisation_id)
    if lang not in WALL_LANGUAGES or lang == wall.language:
        raise InvalidInput(N_("Choose one of the wall's other languages."), code="invalid_language")
    texts: dict[str, object] = {
        "title": _line(
            data.title, MAX_TITLE_LENGTH, N_("The title may have at most %(max)d characters.")
        ),
        "intro": normalise_answer(data.intro or ""),
        "areas": _areas(wall, data.areas),
    }
    if len(str(texts["intro"])) > MAX_INTRO_LENGTH:
        raise InvalidInput(
            N_("The text is too long: at most %(max)d characters."),
            code="text_too_long",
            max=MAX_INTRO_LENGTH,
        )
    prompts = {
        prompt.id: _line(
            data.prompts.get(prompt.id, ""),
            MAX_PROMPT_LENGTH,
            N_("A question may have at most %(max)d characters."),
        )
        for prompt in wall.prompts
    }
    stored = (wall.translations or {}).get(lang, {})
    before = {
        "lang": lang,
        **{name: stored.get(name, type(value)()) for name, value in texts.items()},
        "prompts": {str(p.id): (p.translations or {}).get(lang, "") for p in wall.prompts},
    }
    # JSON columns: assign new values (changes inside a dict are not tracked).
    wall.translations = {
        **(wall.translations or {}),
        lang: {name: value for name, value in texts.items() if value},
    }
    for prompt in wall.prompts:
        others = {k: v for k, v in (prompt.translations or {}).items() if k != lang}
        prompt.translations = {**others, lang: prompts[prompt.id]} if prompts[prompt.id] else others
    after = {
        "lang": lang,
        **texts,
        "prompts": {str(p.id): prompts[p.id] for p in wall.prompts},
    }
    old, new = audit.changed(before, after)
    if new:
        audit.record(
            session,
            organisation_id=organisation_id,
            actor=actor,
            action="wall.translate",
            target_type="wall",
            target_id=wall.id,
            before={"lang": lang, **old},
            after={"lang": lang, **new},
        )
    session.commit()
    return wall
