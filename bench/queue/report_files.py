"""How long the report's files take to build: the CSV (still made in the request), the XLSX
and the PDF (both made by the worker since issue 21).

A fresh SQLite database (migrated) with the demo campaign and its theme run, plus
``--answers`` approved answers (default 10,000) on its first wall; each file is built
``--rounds`` times in-process, as the request (CSV) or the worker (XLSX, PDF) builds it, and
the median wall time is printed with the file's size.

Run from the repository root: ``.venv/bin/python bench/queue/report_files.py``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--answers", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import os

    folder = Path(tempfile.mkdtemp(prefix="stemmer-bench-report-"))
    url = f"sqlite:///{folder / 'stemmer.db'}"
    os.environ["DATABASE_URL"] = url
    os.environ["STEMMER_QUEUE_IMMEDIATE"] = "1"
    os.environ["STEMMER_QUEUE_FILE"] = str(folder / "queue.db")

    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from app import create_app
    from app.extensions import db
    from app.staff.report_views import build_report_file, export_bytes
    from surveys.demo import load_demo
    from surveys.models import Answer, AnswerStatus, Campaign, Channel, Prompt, Wall, utcnow

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        load_demo(db.session, themes=True)
        campaign = db.session.scalars(select(Campaign).where(Campaign.slug == "demo")).one()
        wall = db.session.scalars(select(Wall).where(Wall.campaign_id == campaign.id)).first()
        assert wall is not None
        prompt = db.session.scalars(select(Prompt).where(Prompt.wall_id == wall.id)).first()
        assert prompt is not None
        now = utcnow()
        rows = [
            {
                "wall_id": wall.id,
                "prompt_id": prompt.id,
                "text": f"Flere cykelstier og bænke ved stranden, svar nummer {i}",
                "status": AnswerStatus.APPROVED,
                "channel": Channel.WEB,
                "client_submission_id": f"bench-{i:06d}",
                "created_at": now,
            }
            for i in range(args.answers)
        ]
        db.session.execute(insert(Answer), rows)
        db.session.commit()
        total = len(db.session.scalars(select(Answer.id)).all())
        print(f"demo campaign with {total:,} answers (SQLite, {args.rounds} rounds, median)")

        def timed(name: str, build) -> None:  # type: ignore[no-untyped-def]
            times = []
            size = 0
            for _ in range(args.rounds):
                start = time.perf_counter()
                size = len(build())
                times.append(time.perf_counter() - start)
                db.session.rollback()
            print(f"{name:5} {statistics.median(times):6.2f} s  {size:>12,} bytes")

        with app.test_request_context("/"):
            timed("CSV", lambda: export_bytes(campaign, "csv")[0])
            timed("XLSX", lambda: build_report_file(campaign, "xlsx").data)
            timed("PDF", lambda: build_report_file(campaign, "pdf").data)


if __name__ == "__main__":
    main()
