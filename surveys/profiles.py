"""Which "about you" answers make sense for who is answering (issue 24).

A wall's audience says who answers; on a wall for everyone the participant's role says it. The
age question then asks about the right person (a young person's own age, a parent's child's
age, the children a professional works with) with the bands that fit, or is not asked at all
(someone expecting a child). :func:`surveys.answers.clean_profile` refuses the rest.
"""

from __future__ import annotations

import enum

from .models import AGE_GROUP_CODES, ROLE_CODES, Audience


class AgeQuestion(enum.StrEnum):
    """Whose age the age question asks for (the web layer words each one)."""

    OWN = "own"  # a young person's own age
    CHILD = "child"  # a parent's child
    CHILDREN_WORKED_WITH = "children_worked_with"  # a professional's children
    ANY = "any"  # a wall for everyone before a role is chosen: own age or a child's


YOUTH_AGE_GROUPS = ("13-17", "18-24")

#: For each role: whose age is asked and which bands fit (None: the age is not asked).
_AGE_BY_ROLE: dict[str, tuple[AgeQuestion, tuple[str, ...]] | None] = {
    "young": (AgeQuestion.OWN, YOUTH_AGE_GROUPS),
    "parent": (AgeQuestion.CHILD, AGE_GROUP_CODES),
    "professional": (AgeQuestion.CHILDREN_WORKED_WITH, AGE_GROUP_CODES),
    "expecting": None,
    "other": None,
}
#: Before (or without) a role: what the audience tells about who answers.
_AGE_BY_AUDIENCE: dict[Audience, tuple[AgeQuestion, tuple[str, ...]]] = {
    Audience.PARENTS: (AgeQuestion.CHILD, AGE_GROUP_CODES),
    Audience.YOUNG: (AgeQuestion.OWN, YOUTH_AGE_GROUPS),
    Audience.EVERYONE: (AgeQuestion.ANY, AGE_GROUP_CODES),
}


def age_question(
    audience: Audience, role: str | None = None
) -> tuple[AgeQuestion, tuple[str, ...]] | None:
    """Whose age is asked and the bands that fit, for this audience and (optional) role;
    None when the age question does not apply (e.g. someone expecting a child)."""
    if role:
        return _AGE_BY_ROLE[role]
    return _AGE_BY_AUDIENCE[Audience(audience)]


def age_questions_by_role(
    audience: Audience,
) -> dict[str, tuple[AgeQuestion, tuple[str, ...]]]:
    """For the page's script: the age question per role the wall offers ("" = no role yet)."""
    result = {"": age_question(audience)}
    result.update({role: age_question(audience, role) for role in ROLE_CODES})
    return {role: question for role, question in result.items() if question is not None}
