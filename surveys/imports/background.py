"""An import into a wall as a background job: the staff page stores the uploaded file with
the job (``surveys.jobs``), and the task queue's worker carries it out with progress.

Unlike :func:`~surveys.imports.writing.import_answers` (ONE transaction, for the command line
and small files), the job stores the answers in batches of ``WRITE_BATCH``, each committed,
and tells its progress after each: answers arriving from citizens meanwhile wait for one
batch, not for the whole file.

Safe to run again. Every row has a stable submission id (the file's own, or
``imp-<hash of the file>-<row number>``) and a row whose id is already stored on the wall is
never stored twice; so a job whose worker was killed half way plans the file again, finds
the rows stored before, and stores only the rest. What the first attempt planned (the
counts and every refused row with its reason) is kept with the job as its summary (a
``JobFile``), committed with the audit entry before any answer is written: the result counts
the whole import, not only what the last attempt stored, and the audit entry is written once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import audit
from ..campaigns import get_wall
from ..errors import N_, Conflict
from ..jobs import input_file
from ..models import Channel, Job, JobFile, StaffUser
from .mapping import ColumnMapping
from .messages import Issue
from .planning import ImportPlan, ImportRefused, plan_import
from .reading import read_table
from .values import ImportOptions
from .writing import insert_answers

#: The job's kind (``app.jobs.RUNNERS``).
KIND = "import"
#: The role of the job's summary file (what the first attempt planned).
SUMMARY = "summary"
#: Answers stored (and committed) at a time.
WRITE_BATCH = 500

#: How a job tells how far it is: done, total, what it is doing (English).
Progress = Callable[[int, int | None, str], object]


@dataclass(frozen=True)
class ImportRequest:
    """What staff asked for: a file into a wall, with a column mapping and options."""

    wall_id: int
    filename: str
    mapping: ColumnMapping
    options: ImportOptions

    def params(self) -> dict[str, Any]:
        """As the job's JSON parameters."""
        options = self.options
        return {
            "wall_id": self.wall_id,
            "filename": self.filename,
            "mapping": self.mapping.as_dict(),
            "options": {
                "prompt_id": options.prompt_id,
                "channel": options.channel.value if options.channel else None,
                "place": options.place,
                "written_on": options.written_on.isoformat() if options.written_on else None,
                "profile": dict(options.profile),
                "keep_duplicates": options.keep_duplicates,
                "skip_invalid": options.skip_invalid,
            },
        }

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> ImportRequest:
        """From the job's JSON parameters."""
        values = params["options"]
        return cls(
            wall_id=int(params["wall_id"]),
            filename=str(params["filename"]),
            mapping=ColumnMapping.from_dict(params["mapping"]),
            options=ImportOptions(
                prompt_id=values["prompt_id"],
                channel=Channel(values["channel"]) if values["channel"] else None,
                place=values["place"],
                written_on=date.fromisoformat(values["written_on"])
                if values["written_on"]
                else None,
                profile=values["profile"],
                keep_duplicates=values["keep_duplicates"],
                skip_invalid=values["skip_invalid"],
            ),
        )

    def job_key(self, data: bytes) -> str:
        """The job's idempotency key: the same file into the same wall with the same choices
        (asking again while it runs gives the running job)."""
        file_hash = hashlib.sha256(data).hexdigest()[:16]
        choices = hashlib.sha256(json.dumps(self.params(), sort_keys=True).encode()).hexdigest()
        return f"{KIND}:{self.wall_id}:{file_hash}:{choices[:16]}"


@dataclass(frozen=True)
class ImportSummary:
    """What an import job planned: the counts (``ImportPlan.counts``) and the refused rows
    with their reasons; ``refused_all`` when rows had errors and skipping them was not asked
    for, so nothing was imported."""

    counts: dict[str, int]
    refused: list[Issue] = field(default_factory=list)
    refused_all: bool = False

    @classmethod
    def of(cls, plan: ImportPlan, *, refused_all: bool) -> ImportSummary:
        """The summary of a plan."""
        return cls(plan.counts(), list(plan.errors), refused_all)

    def to_json(self) -> bytes:
        """As stored with the job."""
        refused = [
            {"row": i.row, "message": i.message, "params": dict(i.params)} for i in self.refused
        ]
        document = {"counts": self.counts, "refused": refused, "refused_all": self.refused_all}
        return json.dumps(document, ensure_ascii=False, default=str).encode()

    @classmethod
    def from_json(cls, data: bytes) -> ImportSummary:
        """As stored with the job."""
        document = json.loads(data)
        refused = [Issue(i["message"], i["params"], i["row"]) for i in document["refused"]]
        return cls(document["counts"], refused, document["refused_all"])


def summary(session: Session, job_id: int) -> ImportSummary | None:
    """What the import job planned, once it has planned."""
    item = session.scalars(
        select(JobFile).where(JobFile.job_id == job_id, JobFile.role == SUMMARY)
    ).first()
    return ImportSummary.from_json(item.data) if item is not None else None


def _keep_summary(session: Session, job_id: int, kept: ImportSummary) -> None:
    data = kept.to_json()
    session.add(
        JobFile(
            job_id=job_id,
            role=SUMMARY,
            name="summary.json",
            content_type="application/json",
            size=len(data),
            data=data,
        )
    )


def run_import(
    session: Session, job: Job, actor: StaffUser | None, progress: Progress
) -> dict[str, int]:
    """Carry out an import job (see the module's docstring); its counts.

    :class:`ImportRefused` when rows have errors and skipping them was not asked for
    (nothing is imported; the summary lists the rows).
    """
    request = ImportRequest.from_params(job.params)
    wall = get_wall(session, job.organisation_id, request.wall_id)
    progress(0, None, N_("Reading the file"))
    table = read_table(input_file(session, job.id).data, request.filename)

    def checked(done: int, total: int) -> None:
        progress(done, total, N_("Checking the rows"))

    plan = plan_import(session, wall, table, request.mapping, request.options, progress=checked)
    kept = summary(session, job.id)
    if kept is None:  # the first attempt: keep what it plans, with the audit entry
        kept = ImportSummary.of(
            plan, refused_all=bool(plan.errors) and not request.options.skip_invalid
        )
        _keep_summary(session, job.id, kept)
        if not kept.refused_all:
            audit.record(
                session,
                organisation_id=job.organisation_id,
                actor=actor,
                actor_email=None if actor else "cli",
                action="answers.import",
                target_type="wall",
                target_id=wall.id,
                after={**plan.counts(), "format": table.format, "job": job.id},
            )
        session.commit()
    if kept.refused_all:
        raise ImportRefused(plan)
    total = kept.counts["imported"]
    stored_before = total - plan.to_import  # by an attempt that was stopped
    for start in range(0, plan.to_import, WRITE_BATCH):
        progress(stored_before + start, total, N_("Saving the answers"))
        try:
            insert_answers(session, plan.answers[start : start + WRITE_BATCH])
            session.commit()
        except IntegrityError as error:
            session.rollback()
            raise Conflict(
                N_(
                    "Answers with the same submission ids were added to the wall while "
                    "importing. Import the file again: the answers already stored are skipped."
                ),
                code="import_conflict",
            ) from error
    progress(total, total, N_("Saving the answers"))
    return {"wall_id": wall.id, **kept.counts}
