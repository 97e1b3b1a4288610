"""A campaign's codebook: the themes staff expect, and theme runs that sort answers into it.

Staff write each theme as a name, one sentence and at most ten keywords
(:func:`add_theme`, :func:`update_theme`, :func:`delete_theme`), or load the built-in starter
for childhood campaigns (:func:`load_starter`: the engine's thesaurus, ``nlp.codebook``).
:func:`run_codebook_themes` sorts a scope's approved answers into the codebook
(``nlp.codebook.sort_into_codebook``): themes from the codebook carry its name; what fits
none is clustered into proposed new themes. Moves, splits and pins staff made in the scope
become the engine's corrections (:func:`corrections_from_curation`), so the next run learns
from them. Nothing here imports Flask.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from sqlalchemy import Select, Table, func, insert, select, update
from sqlalchemy.orm import Session

from . import audit, campaigns
from .errors import N_, InvalidInput, NotFound
from .models import (
    Answer,
    AnswerStatus,
    Campaign,
    CodebookTheme,
    StaffUser,
    Theme,
    ThemeAssignment,
    ThemeRun,
    utcnow,
)
from .text import normalise_answer
from .theme_changes import compare_runs
from .themes import (
    Scope,
    answers_in_scope,
    answers_to_fit,
    curation_for,
    latest_run,
    place_in_run,
    questions_in_scope,
    shows_personal_data,
)
from .vectors import Encoder, vectors_for

if TYPE_CHECKING:
    from nlp.codebook import Codebook

#: Limits of a codebook (the engine reads names, one sentence and a few keywords).
MAX_THEMES = 40
MAX_NAME = 100
MAX_DESCRIPTION = 300
MAX_KEYWORDS = 10
MAX_KEYWORD = 40
#: A keyword: letters or digits, with spaces, hyphens and apostrophes inside; ``*`` at one
#: end marks a prefix ("natur*") or a suffix ("*skov").
_KEYWORD = re.compile(r"^\*?[^\W_](?:[\w' -]*[^\W_])?\*?$")
#: Theme keys of codebook themes: stable across runs, from the codebook theme's row.
CODEBOOK_KEY_BASE = 100_000


@dataclass(frozen=True)
class ThemeInput:
    """A codebook theme as staff wrote it (checked by :func:`clean_input`)."""

    name: str
    description: str = ""
    keywords: tuple[str, ...] = ()


def split_keywords(text: str) -> tuple[str, ...]:
    """Keywords from a form field: separated by commas or line breaks, blanks dropped."""
    return tuple(k.strip() for k in re.split(r"[,\n;]", text or "") if k.strip())


def clean_input(data: ThemeInput) -> ThemeInput:
    """The theme normalised; :class:`InvalidInput` when a part is empty, too long, not a
    word, shows personal data, or when there are more than ten keywords."""
    name = normalise_answer(data.name or "").replace("\n", " ")
    description = normalise_answer(data.description or "").replace("\n", " ")
    if not name:
        raise InvalidInput(N_("Write a name for the theme."), code="codebook_name_empty")
    if len(name) > MAX_NAME:
        raise InvalidInput(
            N_("The name can be at most %(num)d characters."),
            code="codebook_name_too_long",
            num=MAX_NAME,
        )
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(
            N_("The description can be at most %(num)d characters."),
            code="codebook_description_too_long",
            num=MAX_DESCRIPTION,
        )
    keywords = list(dict.fromkeys(normalise_answer(k).lower() for k in data.keywords))
    keywords = [k for k in keywords if k]
    if len(keywords) > MAX_KEYWORDS:
        raise InvalidInput(
            N_("Write at most %(num)d keywords."), code="codebook_too_many_keywords", num=10
        )
    for keyword in keywords:
        if len(keyword) > MAX_KEYWORD or not _KEYWORD.match(keyword):
            raise InvalidInput(
                N_(
                    "“%(keyword)s” is not a keyword: write a word of at most %(num)d letters "
                    "(a * at the start or end matches the rest of a word)."
                ),
                code="codebook_bad_keyword",
                keyword=keyword[:MAX_KEYWORD],
                num=MAX_KEYWORD,
            )
    if shows_personal_data(name):
        raise _personal_data_error()
    if description and shows_personal_data(description):
        raise _personal_data_error()
    return ThemeInput(name, description, tuple(keywords))


def _personal_data_error() -> InvalidInput:
    return InvalidInput(
        N_(
            "The name or description looks like it contains personal data (a name, a number "
            "or an address). Write it without."
        ),
        code="codebook_personal_data",
    )


def codebook_of(campaign_id: int) -> Select[tuple[CodebookTheme]]:
    """A campaign's codebook themes in their order."""
    return (
        select(CodebookTheme)
        .where(CodebookTheme.campaign_id == campaign_id)
        .order_by(CodebookTheme.position, CodebookTheme.id)
    )


def load_codebook(
    session: Session, actor: StaffUser, campaign_id: int
) -> tuple[Campaign, list[CodebookTheme]]:
    """The actor's campaign and its codebook (:class:`NotFound` for other organisations)."""
    campaign = campaigns.get_campaign(session, actor.organisation_id, campaign_id)
    return campaign, list(session.scalars(codebook_of(campaign.id)))


def get_theme(session: Session, actor: StaffUser, campaign_id: int, theme_id: int) -> CodebookTheme:
    """One codebook theme of the actor's campaign (:class:`NotFound` otherwise)."""
    campaign = campaigns.get_campaign(session, actor.organisation_id, campaign_id)
    theme = session.get(CodebookTheme, theme_id)
    if theme is None or theme.campaign_id != campaign.id:
        raise NotFound(N_("This codebook theme does not exist."), code="codebook_theme_not_found")
    return theme


def _check_name_free(
    session: Session, campaign_id: int, name: str, theme_id: int | None = None
) -> None:
    stmt = select(CodebookTheme.id).where(
        CodebookTheme.campaign_id == campaign_id,
        func.lower(CodebookTheme.name) == name.lower(),
    )
    if theme_id is not None:
        stmt = stmt.where(CodebookTheme.id != theme_id)
    if session.scalar(stmt) is not None:
        raise InvalidInput(
            N_("The codebook already has a theme called “%(name)s”."),
            code="codebook_name_taken",
            name=name,
        )


def _audit(
    session: Session, actor: StaffUser, campaign: Campaign, action: str, theme: CodebookTheme
) -> None:
    audit.record(
        session,
        organisation_id=campaign.organisation_id,
        actor=actor,
        action=action,
        target_type="codebook_theme",
        target_id=theme.id,
        after={
            "campaign": campaign.id,
            "name": theme.name,
            "description": theme.description,
            "keywords": list(theme.keywords),
        },
    )


def add_theme(
    session: Session, actor: StaffUser, campaign_id: int, data: ThemeInput
) -> CodebookTheme:
    """Add a theme at the end of the campaign's codebook (committed, audited)."""
    campaign, themes = load_codebook(session, actor, campaign_id)
    if len(themes) >= MAX_THEMES:
        raise InvalidInput(
            N_("A codebook can have at most %(num)d themes."),
            code="codebook_full",
            num=MAX_THEMES,
        )
    clean = clean_input(data)
    _check_name_free(session, campaign.id, clean.name)
    theme = CodebookTheme(
        campaign_id=campaign.id,
        position=max((t.position for t in themes), default=-1) + 1,
        name=clean.name,
        description=clean.description,
        keywords=list(clean.keywords),
    )
    session.add(theme)
    session.flush()
    _audit(session, actor, campaign, "codebook.add", theme)
    session.commit()
    return theme


def update_theme(
    session: Session, actor: StaffUser, campaign_id: int, theme_id: int, data: ThemeInput
) -> CodebookTheme:
    """Change a codebook theme's name, description and keywords (committed, audited)."""
    theme = get_theme(session, actor, campaign_id, theme_id)
    clean = clean_input(data)
    _check_name_free(session, theme.campaign_id, clean.name, theme.id)
    theme.name, theme.description = clean.name, clean.description
    theme.keywords = list(clean.keywords)
    theme.updated_at = utcnow()
    _audit(session, actor, _campaign(session, theme), "codebook.update", theme)
    session.commit()
    return theme


def delete_theme(session: Session, actor: StaffUser, campaign_id: int, theme_id: int) -> str:
    """Remove a theme from the codebook (committed, audited); its name. Runs made with it
    keep their themes."""
    theme = get_theme(session, actor, campaign_id, theme_id)
    _audit(session, actor, _campaign(session, theme), "codebook.delete", theme)
    session.delete(theme)
    session.commit()
    return theme.name


def _campaign(session: Session, theme: CodebookTheme) -> Campaign:
    campaign = session.get(Campaign, theme.campaign_id)
    assert campaign is not None
    return campaign


def starter_themes() -> list[ThemeInput]:
    """The built-in starter for childhood campaigns: the engine's thesaurus
    (``nlp.codebook.childhood_starter``), each concept a theme with its first ten words."""
    from nlp.codebook import childhood_starter

    out = []
    for theme in childhood_starter().themes:
        words = list(dict.fromkeys(k.strip("*") for k in theme.keywords if k.strip("*")))
        out.append(ThemeInput(theme.name.capitalize(), theme.description, tuple(words[:10])))
    return out


def load_starter(session: Session, actor: StaffUser, campaign_id: int) -> int:
    """Add the starter's themes the codebook lacks (by name; committed, audited); how many."""
    campaign, themes = load_codebook(session, actor, campaign_id)
    taken = {t.name.lower() for t in themes}
    position = max((t.position for t in themes), default=-1)
    added = 0
    for data in starter_themes():
        if data.name.lower() in taken or len(themes) + added >= MAX_THEMES:
            continue
        position += 1
        added += 1
        session.add(
            CodebookTheme(
                campaign_id=campaign.id,
                position=position,
                name=data.name,
                description=data.description,
                keywords=list(data.keywords),
            )
        )
    audit.commit_change(
        session,
        organisation_id=campaign.organisation_id,
        actor=actor,
        action="codebook.starter",
        target_type="campaign",
        target_id=campaign.id,
        after={"added": added},
    )
    return added


def engine_codebook(themes: Sequence[CodebookTheme]) -> Codebook:
    """The codebook as the engine reads it (``nlp.codebook.Codebook``)."""
    from nlp.codebook import Codebook

    return Codebook.from_dict(
        {
            "themes": [
                {"name": t.name, "description": t.description, "keywords": list(t.keywords)}
                for t in themes
            ]
        }
    )


# --------------------------------------------------------------------------- learning


def corrections_from_curation(session: Session, scope: Scope) -> dict[str, str]:
    """Answer id -> theme name: what staff decided in the scope's latest run, as the
    engine's corrections. An answer staff moved, split off or pinned belongs to the theme
    it was put in, by that theme's name (its codebook name, else the name staff gave it:
    a renamed theme teaches under its new name). Answers marked "not a theme" teach
    nothing. The engine keeps the corrections whose name is a codebook theme."""
    run = latest_run(session, scope.key)
    curation = curation_for(session, scope)
    data = curation.data or {}
    if run is None:
        return {}
    names = {t.key: (t.codebook or t.label) for t in run.themes}
    found: dict[str, str] = {}
    for theme_key, answer_ids in (data.get("pinned") or {}).items():
        for answer_id in answer_ids:
            if theme_key in names:
                found[str(answer_id)] = names[theme_key]
    for theme_key, answer_ids in (data.get("split") or {}).items():
        for answer_id in answer_ids:
            if theme_key in names:
                found[str(answer_id)] = names[theme_key]
    for answer_id, theme_key in (data.get("moved") or {}).items():
        if theme_key in names:
            found[str(answer_id)] = names[theme_key]
    for answer_id in data.get("excluded") or []:
        found.pop(str(answer_id), None)
    return found


# --------------------------------------------------------------------------- runs


def _questions(session: Session, scope: Scope) -> list[str]:
    return list(dict.fromkeys(t for row in session.execute(questions_in_scope(scope)) for t in row))


def build_codebook_themes(
    session: Session,
    scope: Scope,
    codebook: Sequence[CodebookTheme],
    *,
    encoder: Encoder | None = None,
    seed: int = 0,
) -> ThemeRun:
    """Sort the scope's approved answers into the codebook and store the run (committed).

    Codebook themes keep a stable key per codebook theme; proposed new themes (answers that
    fit none) follow. The run keeps the codebook it used and, per answer, why it is where it
    is. Answers waiting for moderation are placed afterwards (as new answers are)."""
    from nlp.codebook import sort_into_codebook

    book = engine_codebook(codebook)
    answers = list(session.scalars(answers_to_fit(scope)))
    vectors = vectors_for(session, answers, encoder)
    theme_vectors = None
    if vectors is not None and encoder is not None:
        theme_vectors = encoder([t.passage() for t in book.themes], passages=True)
    corrections = corrections_from_curation(session, scope)
    previous = latest_run(session, scope.key)
    document = sort_into_codebook(
        [a.text for a in answers],
        [str(a.id) for a in answers],
        book,
        vectors=vectors,
        theme_vectors=theme_vectors,
        corrections=corrections,
        seed=seed,
        questions=_questions(session, scope),
        quotable=lambda text: not shows_personal_data(text),
    )
    keys = {f"c{n}": f"t{CODEBOOK_KEY_BASE + t.id}" for n, t in enumerate(codebook, start=1)}
    proposals = [t for t in document["themes"] if t.get("proposed")]
    for n, theme in enumerate(proposals, start=1):
        keys[theme["id"]] = f"t{CODEBOOK_KEY_BASE * 2 + n}"
    run = ThemeRun(
        campaign_id=scope.campaign_id,
        wall_id=scope.wall_id,
        prompt_id=scope.prompt_id,
        scope_key=scope.key,
        n_answers=len(answers),
        requested_themes="codebook",
        seed=seed,
        # No engine model: answers arriving later are sorted by the codebook's keywords
        # (``surveys.themes.placements``).
        model=b"",
        codebook=book.to_dict(),
        explanations={
            answer: {
                "words": why["words"][:10],
                "closest": [{"key": keys[c["id"]], "score": c["score"]} for c in why["closest"]],
            }
            for answer, why in document["why"].items()
        },
    )
    session.add(run)
    by_key: dict[str, Theme] = {}
    for position, item in enumerate(document["themes"]):
        theme = Theme(
            key=keys[item["id"]],
            position=position,
            label=str(item["label"])[:200],
            auto_label=str(item["label"])[:200],
            terms=list(item.get("terms") or [])[:10],
            size=len(item["answer_ids"]),
            representative_ids=[int(a) for a in item["representative_ids"]],
            codebook=(item.get("codebook") or "")[:100],
            proposed=bool(item.get("proposed")),
            coherence=float(item.get("coherence") or 0.0),
            mixed=bool(item.get("mixed")),
            split_suggestion=list(item.get("split_suggestion") or []),
        )
        run.themes.append(theme)
        by_key[item["id"]] = theme
    session.flush()
    rows = [
        {"theme_id": by_key[key].id, "answer_id": int(answer_id), "run_id": run.id}
        for answer_id, found in document["assignments"].items()
        for key in found
        if key in by_key
    ]
    if rows:
        session.execute(insert(cast(Table, ThemeAssignment.__table__)), rows)
    waiting = list(
        session.scalars(answers_in_scope(scope).where(Answer.status == AnswerStatus.PENDING))
    )
    place_in_run(session, run, waiting)
    last = max((a.id for a in [*answers, *waiting]), default=0)
    handled = answers_in_scope(scope).with_only_columns(Answer.id).where(Answer.id <= last)
    session.execute(
        update(Answer)
        .where(Answer.id.in_(handled), Answer.themes_placed_at.is_(None))
        .values(themes_placed_at=utcnow())
    )
    run.changes = compare_runs(session, previous, run)
    session.commit()
    return run


def ensure_codebook(
    session: Session, actor: StaffUser, campaign_id: int
) -> tuple[Campaign, list[CodebookTheme]]:
    """The campaign and its codebook; :class:`InvalidInput` when the codebook is empty."""
    campaign, themes = load_codebook(session, actor, campaign_id)
    if not themes:
        raise InvalidInput(
            N_("The codebook is empty. Write the themes you expect first."),
            code="codebook_empty",
        )
    return campaign, themes


def run_codebook_themes(
    session: Session,
    actor: StaffUser,
    scope: Scope,
    *,
    encoder: Encoder | None = None,
) -> ThemeRun:
    """Sort the scope's answers into the campaign's codebook now; audited."""
    campaign, codebook = ensure_codebook(session, actor, scope.campaign_id)
    run = build_codebook_themes(session, scope, codebook, encoder=encoder)
    audit.commit_change(
        session,
        organisation_id=campaign.organisation_id,
        actor=actor,
        action="theme.run_codebook",
        target_type="theme_run",
        target_id=run.id,
        after={"scope": scope.key, "answers": run.n_answers, "themes": len(run.themes)},
    )
    return run
