"""The audit log: every staff action, with who, what, when and before/after for edits.

:func:`record` adds an :class:`~surveys.models.AuditEntry` to the session *without*
committing; :func:`commit_change` records and commits, so that the entry and the change it
describes are committed together, once, by the calling service. Snapshots never contain
citizens' answer texts, password hashes or device tokens: an audit log that copied personal
data would defeat redaction and retention.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from .models import AuditEntry, StaffUser, utcnow

#: Actor e-mail recorded for actions taken by the system (e.g. the daily retention run).
SYSTEM_ACTOR = "system"


def _jsonable(value: Any) -> Any:
    """A JSON-storable form of a model attribute value."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return value


def snapshot(obj: object, fields: Iterable[str]) -> dict[str, Any]:
    """The named attributes of ``obj`` as a JSON-storable dict (for before/after)."""
    return {name: _jsonable(getattr(obj, name)) for name in fields}


def changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict, dict]:
    """Only the keys whose values differ, as (before, after)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def record(
    session: Session,
    *,
    organisation_id: int,
    actor: StaffUser | None,
    action: str,
    target_type: str = "",
    target_id: int | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    actor_email: str | None = None,
) -> AuditEntry:
    """Add an audit entry to the session (the caller commits it with the change)."""
    entry = AuditEntry(
        organisation_id=organisation_id,
        actor_id=actor.id if actor is not None else None,
        actor_email=actor_email if actor_email is not None else (actor.email if actor else ""),
        action=action,
        target_type=target_type,
        target_id=target_id,
        before=_jsonable(dict(before)) if before is not None else None,
        after=_jsonable(dict(after)) if after is not None else None,
        created_at=utcnow(),
    )
    session.add(entry)
    return entry


def commit_change(session: Session, **entry: Any) -> AuditEntry:
    """Record a staff change (``entry``: the arguments of :func:`record`) and commit it with
    the change itself, in one transaction: the one helper every audited service ends with."""
    recorded = record(session, **entry)
    session.commit()
    return recorded


def entries(
    organisation_id: int,
    *,
    action_prefix: str | None = None,
    actor_id: int | None = None,
    target_type: str | None = None,
    target_id: int | None = None,
) -> Select[tuple[AuditEntry]]:
    """An organisation's audit entries, newest first, optionally filtered."""
    stmt = select(AuditEntry).where(AuditEntry.organisation_id == organisation_id)
    if action_prefix:
        escaped = action_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(AuditEntry.action.like(f"{escaped}%", escape="\\"))
    if actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == actor_id)
    if target_type is not None:
        stmt = stmt.where(AuditEntry.target_type == target_type)
    if target_id is not None:
        stmt = stmt.where(AuditEntry.target_id == target_id)
    return stmt.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
