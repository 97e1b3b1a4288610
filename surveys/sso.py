"""Single sign-on for staff: who a person the organisation's OpenID provider vouched for is here.

The web layer (app/staff/oidc_views.py) runs the OpenID Connect flow and checks the ID token;
:func:`sign_on` gets its claims and returns the staff account to log in, or refuses:

1. The account linked to the provider's issuer and subject is used.
2. Otherwise, when the settings allow it, an account of the organisation with the same
   e-mail address is linked, if the provider says the address is verified. This is how an
   admin lets a colleague in: create the account by e-mail in the user admin; the first
   sign-on links it.
3. Otherwise, when a roles claim is set and maps to a role, an account is made with that role.
4. Otherwise the person is refused, and the attempt is written to the organisation's audit
   log (``auth.sso_unknown``, with the e-mail and name) so an admin sees who asked.

With a roles claim set, the provider decides the role at every sign-on: the most powerful
mapped value wins, and a person with no mapped value is refused. A deactivated account is
refused whatever the provider says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .accounts import normalise_email
from .errors import N_, DomainError
from .models import Organisation, StaffRole, StaffUser, utcnow
from .passwords import generate_password, hash_password

#: The roles most powerful first (the order of :class:`StaffRole`).
ROLE_ORDER = tuple(StaffRole)


class SignOnRefused(DomainError):
    """The provider vouched for the person, but Stemmer does not let them in."""

    code = "sso_refused"
    status = 403


UNKNOWN_MESSAGE = N_(
    "You have no access to Stemmer yet. Ask an administrator in your organisation for access."
)


@dataclass(frozen=True)
class SignOnPolicy:
    """The settings of single sign-on that decide who gets in (from app/config.py)."""

    organisation_slug: str
    #: Link an existing account by its e-mail address at the first sign-on.
    match_email: bool = False
    #: The claim that holds the person's roles at the provider ("": roles are set here).
    roles_claim: str = ""
    #: A value of the roles claim -> the role here.
    role_map: Mapping[str, StaffRole] = field(default_factory=dict)


def parse_role_map(text: str) -> dict[str, StaffRole]:
    """``"Stemmer.Admin=admin, Stemmer.Reader=viewer"`` as a map; ``ValueError`` if malformed."""
    mapping: dict[str, StaffRole] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        value, sep, role = part.rpartition("=")
        if not sep or not value.strip() or role.strip() not in StaffRole.__members__.values():
            raise ValueError(f"expected claim-value=role with a role of {list(StaffRole)}: {part}")
        mapping[value.strip()] = StaffRole(role.strip())
    return mapping


def mapped_role(claims: Mapping[str, Any], policy: SignOnPolicy) -> StaffRole | None:
    """The most powerful role the roles claim maps to (None: no mapped value)."""
    values = claims.get(policy.roles_claim)
    if isinstance(values, str):
        values = values.split()
    if not isinstance(values, Sequence):
        return None
    roles = {policy.role_map[value] for value in values if value in policy.role_map}
    return min(roles, key=ROLE_ORDER.index) if roles else None


def _audit(session: Session, user: StaffUser, action: str, **after: Any) -> None:
    audit.record(
        session,
        organisation_id=user.organisation_id,
        actor=user,
        action=action,
        target_type="staff_user",
        target_id=user.id,
        after=after or None,
    )


def _refuse_unknown(
    session: Session, organisation: Organisation, claims: Mapping[str, Any]
) -> SignOnRefused:
    audit.record(
        session,
        organisation_id=organisation.id,
        actor=None,
        actor_email=str(claims.get("email") or "")[:254],
        action="auth.sso_unknown",
        after={"email": claims.get("email"), "name": claims.get("name")},
    )
    session.commit()
    return SignOnRefused(UNKNOWN_MESSAGE, code="sso_unknown")


def _find_or_link(
    session: Session, organisation: Organisation, claims: Mapping[str, Any], policy: SignOnPolicy
) -> StaffUser | None:
    issuer, subject = str(claims["iss"]), str(claims["sub"])
    user = session.scalars(
        select(StaffUser).where(StaffUser.oidc_issuer == issuer, StaffUser.oidc_subject == subject)
    ).first()
    if user is not None or not policy.match_email or claims.get("email_verified") is not True:
        return user
    user = session.scalars(
        select(StaffUser).where(
            StaffUser.email == normalise_email(str(claims.get("email") or "")),
            StaffUser.organisation_id == organisation.id,
            StaffUser.oidc_subject.is_(None),
        )
    ).first()
    if user is not None:
        user.oidc_issuer, user.oidc_subject = issuer, subject
        _audit(session, user, "auth.sso_linked", oidc_issuer=issuer)
    return user


def _create(
    session: Session, organisation: Organisation, claims: Mapping[str, Any], role: StaffRole
) -> StaffUser | None:
    """A new account for a person the provider gave a role (None: no usable e-mail, or taken)."""
    email = normalise_email(str(claims.get("email") or ""))
    taken = session.scalars(select(StaffUser.id).where(StaffUser.email == email)).first()
    if not email or taken is not None:
        return None
    user = StaffUser(
        organisation_id=organisation.id,
        email=email,
        name=" ".join(str(claims.get("name") or "").split())[:200],
        role=role,
        # Never used: the account signs on at the provider (a password reset gives it one).
        password_hash=hash_password(generate_password()),
        oidc_issuer=str(claims["iss"]),
        oidc_subject=str(claims["sub"]),
    )
    session.add(user)
    session.flush()
    _audit(session, user, "user.create_sso", role=role.value)
    return user


def sign_on(session: Session, claims: Mapping[str, Any], policy: SignOnPolicy) -> StaffUser:
    """The staff account for a checked ID token's ``claims``, or :class:`SignOnRefused`.

    Every outcome is committed with its audit entry.
    """
    organisation = session.scalars(
        select(Organisation).where(Organisation.slug == policy.organisation_slug)
    ).first()
    if organisation is None:
        raise SignOnRefused(
            N_("Single sign-on is not set up for an organisation here."), code="sso_no_org"
        )
    user = _find_or_link(session, organisation, claims, policy)
    role = mapped_role(claims, policy) if policy.roles_claim else None
    if user is None and role is not None:
        user = _create(session, organisation, claims, role)
    if user is None:
        raise _refuse_unknown(session, organisation, claims)
    if user.organisation_id != organisation.id or (policy.roles_claim and role is None):
        _audit(session, user, "auth.sso_refused")
        session.commit()
        raise SignOnRefused(UNKNOWN_MESSAGE, code="sso_no_role")
    if not user.is_active:
        _audit(session, user, "auth.sso_refused_inactive")
        session.commit()
        raise SignOnRefused(
            N_("Your account in Stemmer is deactivated. Ask an administrator for access."),
            code="sso_inactive",
        )
    if role is not None and role is not user.role:
        audit.record(
            session,
            organisation_id=user.organisation_id,
            actor=user,
            action="user.update",
            target_type="staff_user",
            target_id=user.id,
            before={"role": user.role.value},
            after={"role": role.value},
        )
        user.role = role
    user.last_login_at = utcnow()
    _audit(session, user, "auth.login_sso")
    session.commit()
    return user
