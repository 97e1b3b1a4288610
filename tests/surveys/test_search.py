"""Text search in answers: Danish letters, case and accents, every word, LIKE's own signs.

Runs on SQLite and (with STEMMER_TEST_POSTGRES_URL) on PostgreSQL: the SQL must fold the
texts exactly as Python folds the words typed.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys import moderation
from surveys.filters import AnswerFilter
from surveys.models import Answer, AnswerStatus, Wall
from surveys.moderation import QueueFilter
from surveys.search import clean_search, fold, search_words
from tests.factories import make_answer, make_wall

TEXTS = [
    "ÆBLER og PÆRER i frikvarteret",
    "Bedre idé: en CAFÉ for unge i Østerlars",
    "Skolebussen til Åkirkeby kommer for sent",
    "Vi får for lidt tid til leg",
    "100% enig i forslaget_om_mere_skygge",
    "Jönsson sagde at bussen kører forbi",
]


def _found(session: Session, words: str) -> set[str]:
    stmt = select(Answer.text).join(Wall, Answer.wall_id == Wall.id)
    return set(session.scalars(AnswerFilter(search=words).apply(stmt)))


def test_fold_is_case_and_accent_blind_but_keeps_the_danish_letters() -> None:
    assert fold("ÆBLE Ørsted ÅEN") == "æble ørsted åen"
    assert fold("Idé CAFÉ Übermut") == "ide cafe ubermut"
    assert fold("Jönsson Märta") == "jønsson mærta"
    assert fold("Cafe\u0301") == "cafe"  # typed decomposed: é as e + a combining accent
    assert fold("får") != fold("for")
    assert search_words("  Bus  bus BUS skole ") == ["bus", "skole"]
    assert clean_search("   ") is None and clean_search(None) is None
    assert clean_search("x" * 500) == "x" * 200


def test_search_in_sql_folds_like_python(session: Session) -> None:
    wall = make_wall(session)
    for text in TEXTS:
        make_answer(session, wall, text)
    assert _found(session, "æbler") == {TEXTS[0]}
    assert _found(session, "ÆBLER pærer") == {TEXTS[0]}
    assert _found(session, "ide cafe") == {TEXTS[1]}
    assert _found(session, "IDÉ") == {TEXTS[1]}
    assert _found(session, "østerlars") == {TEXTS[1]}
    assert _found(session, "åkirkeby") == {TEXTS[2]}
    assert _found(session, "ÅKIRKEBY skolebus") == {TEXTS[2]}  # part of a word is enough
    assert _found(session, "får") == {TEXTS[3]}
    assert _found(session, "for") == {TEXTS[1], TEXTS[2], TEXTS[3], TEXTS[4], TEXTS[5]}
    assert _found(session, "jønsson") == {TEXTS[5]}
    assert _found(session, "bus kører") == {TEXTS[5]}
    assert _found(session, "bus æbler") == set()  # every word must be there
    # LIKE's own signs are plain characters in a search.
    assert _found(session, "100%") == {TEXTS[4]}
    assert _found(session, "%") == {TEXTS[4]}
    assert _found(session, "forslaget_om") == {TEXTS[4]}
    assert _found(session, "_") == {TEXTS[4]}


def test_moderation_queue_search_combines_with_the_filters(session: Session) -> None:
    wall = make_wall(session)
    other = make_wall(session, campaign=wall.campaign)
    make_answer(session, wall, "Flere bænke i parken", status=AnswerStatus.PENDING)
    make_answer(session, wall, "Bænke ved stranden", status=AnswerStatus.APPROVED)
    make_answer(session, other, "BÆNKE ved skolen", status=AnswerStatus.PENDING)
    make_answer(session, wall, "Mere skygge", status=AnswerStatus.PENDING)
    organisation_id = wall.campaign.organisation_id

    def texts(where: QueueFilter) -> list[str]:
        return [a.text for a in session.scalars(moderation.queue(organisation_id, where))]

    assert texts(QueueFilter(search="bænke")) == ["Flere bænke i parken", "BÆNKE ved skolen"]
    assert texts(QueueFilter(search="bænke", wall_id=wall.id)) == ["Flere bænke i parken"]
    assert texts(QueueFilter(search="BÆNKE", status=None)) == [
        "BÆNKE ved skolen",
        "Bænke ved stranden",
        "Flere bænke i parken",
    ]
    counts = moderation.queue_counts(session, organisation_id, QueueFilter(search="bænke"))
    assert (counts["pending"], counts["approved"], counts["hidden"]) == (2, 1, 0)
