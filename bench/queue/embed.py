"""Embedding benchmark: how many answers one queue worker embeds per second (issue 22).

A fresh SQLite database with the demo campaign's answers plus the two issue-22 corpora
(bench/themes/data), then what a worker's catch-up does (``app.queue.embed_everything_due``:
batches of up to 500 answers, embedded with the real e5 model and committed per 256), timed
in one process. Run from the repository root: ``.venv/bin/python bench/queue/embed.py``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="stemmer-embed-"))
    os.environ["STEMMER_QUEUE_FILE"] = str(folder / "queue.db")
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.queue import embed_everything_due
    from surveys.demo import load_demo
    from surveys.models import Answer, AnswerVector, Channel

    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
            "SECRET_KEY": "x",
            "EMBEDDINGS": "auto",
        }
    )
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        load_demo(db.session)
        wall_answer = db.session.query(Answer).first()
        assert wall_answer is not None
        for name in ("transport_da.jsonl", "digital_da.jsonl"):
            path = ROOT / "bench" / "themes" / "data" / name
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
                db.session.add(
                    Answer(
                        wall_id=wall_answer.wall_id,
                        prompt_id=wall_answer.prompt_id,
                        text=json.loads(line)["text"],
                        channel=Channel.WEB,
                        client_submission_id=f"bench-{name}-{n}",
                        status=wall_answer.status,
                    )
                )
        db.session.commit()
        total = db.session.query(Answer).count()
        from nlp import semantic

        semantic.embed(["opvarmning"])  # the model loaded, as in a running worker
        start = time.perf_counter()
        embedded = embed_everything_due(db.session)
        seconds = time.perf_counter() - start
        stored = db.session.query(AnswerVector).count()
        size = sum(len(v.vector) for v in db.session.query(AnswerVector))
    print(
        f"{embedded} of {total} answers embedded in {seconds:.1f} s: "
        f"{embedded / seconds:.1f} answers/s; {stored} vectors stored, "
        f"{size / stored:.0f} bytes each; load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
