"""Answers' semantic vectors (e5, ``nlp.semantic``): computed once, stored, used by every run.

The task queue embeds each new answer in the background (:func:`embed_answers`, and
:func:`answers_to_embed` for its catch-up); a theme run reads the stored vectors
(:func:`vectors_for`) and embeds only what is still missing. A vector is stored as 384
float16 values (768 bytes) with a digest of the text it was computed from: an answer whose
text changed since (a moderator redacted it) is embedded again. Runs always use the float16
values, also for answers embedded during the run, so a re-run on unchanged answers gets
exactly the same input.

The encoder is given by the caller (the web layer decides whether embeddings are on, see
``app.embeddings``): any function from texts to a (n, d) array. Nothing here imports Flask.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from typing import Protocol

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .models import NOTE_STATUSES, Answer, AnswerVector, utcnow

log = logging.getLogger(__name__)


class Encoder(Protocol):
    """Texts in, one unit vector per text out (``nlp.semantic.embed``, or a fake in tests);
    answers are embedded as queries, codebook themes as passages (the e5 convention)."""

    def __call__(self, texts: Sequence[str], *, passages: bool = False) -> np.ndarray: ...


#: Answers embedded and committed at a time (a killed worker loses at most one batch).
EMBED_BATCH = 256
#: Ids per ``IN (...)`` list when reading stored vectors (SQLite's limit is 32,766).
READ_CHUNK = 5_000


def text_digest(text: str) -> str:
    """The digest stored beside a vector: which text it was computed from."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def to_bytes(vector: np.ndarray) -> bytes:
    """A vector as stored: float16 bytes."""
    return np.asarray(vector, dtype=np.float16).tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    """A stored vector as float32."""
    return np.frombuffer(data, dtype=np.float16).astype(np.float32)


def _chunks(ids: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def _stored_digests(session: Session, ids: Sequence[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for chunk in _chunks(ids, READ_CHUNK):
        rows = session.execute(
            select(AnswerVector.answer_id, AnswerVector.digest).where(
                AnswerVector.answer_id.in_(chunk)
            )
        )
        out.update(rows.tuples().all())
    return out


def embed_answers(session: Session, answer_ids: Sequence[int], encoder: Encoder) -> int:
    """Embed the answers that have no vector for their current text yet and store the
    vectors, a batch at a time (committed); how many were embedded.

    Safe to run twice or at the same time: an answer stored by another worker meanwhile
    makes this batch give way (rolled back; the other worker's vectors are as good).
    Hidden and deleted answers are skipped.
    """
    ids = sorted(set(answer_ids))
    done = 0
    for chunk in _chunks(ids, EMBED_BATCH):
        answers = list(
            session.scalars(
                select(Answer)
                .where(Answer.id.in_(chunk), Answer.status.in_(NOTE_STATUSES))
                .order_by(Answer.id)
            )
        )
        stored = _stored_digests(session, [a.id for a in answers])
        todo = [a for a in answers if stored.get(a.id) != text_digest(a.text)]
        if not todo:
            continue
        # The model first, then the writes (SQLite locks the database from the first write).
        vectors = np.asarray(encoder([a.text for a in todo]), dtype=np.float32)
        now = utcnow()
        for answer, vector in zip(todo, vectors, strict=True):
            row = AnswerVector(
                answer_id=answer.id,
                digest=text_digest(answer.text),
                vector=to_bytes(vector),
                created_at=now,
            )
            if answer.id in stored:
                session.merge(row)
            else:
                session.add(row)
        try:
            session.commit()
        except IntegrityError:  # another worker stored some of them at the same moment
            session.rollback()
            log.info("answers %s were embedded elsewhere meanwhile", [a.id for a in todo])
            continue
        done += len(todo)
    return done


def answers_to_embed(session: Session, limit: int = 500) -> list[int]:
    """Ids of answers (not hidden) without a stored vector, oldest first: what the queue's
    catch-up hands to :func:`embed_answers`."""
    return list(
        session.scalars(
            select(Answer.id)
            .outerjoin(AnswerVector, AnswerVector.answer_id == Answer.id)
            .where(AnswerVector.answer_id.is_(None), Answer.status.in_(NOTE_STATUSES))
            .order_by(Answer.id)
            .limit(limit)
        )
    )


def stored_vectors(session: Session, answers: Sequence[Answer]) -> np.ndarray | None:
    """The answers' stored vectors (one row each, float32), or None when one of them has
    no vector for its current text."""
    if not answers:
        return None
    found: dict[int, tuple[str, bytes]] = {}
    for chunk in _chunks([a.id for a in answers], READ_CHUNK):
        rows = session.execute(
            select(AnswerVector.answer_id, AnswerVector.digest, AnswerVector.vector).where(
                AnswerVector.answer_id.in_(chunk)
            )
        )
        for answer_id, digest, data in rows.tuples():
            found[answer_id] = (digest, data)
    out = []
    for answer in answers:
        row = found.get(answer.id)
        if row is None or row[0] != text_digest(answer.text):
            return None
        out.append(from_bytes(row[1]))
    return np.vstack(out)


def vectors_for(
    session: Session, answers: Sequence[Answer], encoder: Encoder | None
) -> np.ndarray | None:
    """The answers' vectors for a theme run: the stored ones, after embedding and storing
    those still missing (committed); None without an encoder (embeddings off) or when
    some could not be had (the run then works on words alone)."""
    if encoder is None or not answers:
        return None
    embed_answers(session, [a.id for a in answers], encoder)
    vectors = stored_vectors(session, answers)
    if vectors is None:
        log.warning("some answers have no vector; this theme run uses words alone")
    return vectors
