"""Task-queue benchmark: how soon a new answer is under its theme, and what one worker does.

The app as ``make run`` starts it (gunicorn with gunicorn.conf.py and one worker,
``flask --app wsgi worker``) on a fresh database whose campaign has a theme run over 300
notes (bench/load/run.py prepares it):

  1. answers arrive at ``--rate`` a second (default 50) for ``--seconds`` (default 30), each
     a POST /api/v1/walls/<slug>/answers; then the time from each answer's arrival
     (``created_at``) to its placement under the themes (``themes_placed_at``): p50, p95, p99,
     max, and the share within 5 s;
  2. with the worker stopped, ``--backlog`` answers (default 2,000) are posted; a worker is
     started and the time until all are placed gives what one worker sustains (answers/s).

Run from the repository root: ``.venv/bin/python bench/queue/run.py [--db sqlite|postgresql]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "load"))

import run as load  # noqa: E402  (bench/load/run.py)


def post_answers(base: str, prompt_id: int, count: int, rate: float | None) -> dict[int, int]:
    """``count`` answers, ``rate`` a second (None: as fast as 16 connections go)."""
    url = f"{base}/api/v1/walls/{load.ANSWER_SLUG}/answers"
    local = threading.local()
    start = time.monotonic()

    def send(number: int) -> int:
        if rate:
            delay = start + number / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        if not hasattr(local, "session"):
            local.session = requests.Session()
        body = {
            "prompt_id": prompt_id,
            "text": f"Bussen kører for sjældent om aftenen ({number})",
            "client_submission_id": f"queue-{uuid.uuid4().hex[:20]}",
        }
        return local.session.post(url, json=body, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(send, range(count)))
    return {status: statuses.count(status) for status in set(statuses)}


def latencies(url: str) -> list[float]:
    """Seconds from arrival to placement of every placed answer of the answers wall, in the
    order they arrived."""
    from sqlalchemy import select

    from surveys.db import make_engine
    from surveys.models import Answer, Wall

    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            select(Answer.created_at, Answer.themes_placed_at)
            .join(Wall, Wall.id == Answer.wall_id)
            .where(Wall.slug == load.ANSWER_SLUG, Answer.themes_placed_at.is_not(None))
            .order_by(Answer.id)
        ).all()
    engine.dispose()
    return [(placed - created).total_seconds() for created, placed in rows]


def wait_until_placed(url: str, timeout: float) -> float:
    started = time.monotonic()
    while load.unplaced(url) and time.monotonic() - started < timeout:
        time.sleep(0.2)
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rate", type=float, default=50.0, help="answers a second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--backlog", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stemmer-queue-bench-") as name:
        workdir = Path(name)
        os.chmod(workdir, 0o755)
        url = (
            f"sqlite:///{workdir / 'queue.db'}"
            if args.db == "sqlite"
            else load.start_postgres(workdir)
        )
        os.environ["STEMMER_QUEUE_FILE"] = str(workdir / "tasks.db")
        server = worker = None
        try:
            prompt_id = load.prepare_database(url)
            load.build_theme_run(url)
            port = load.free_port()
            server = load.start_gunicorn(url, port, workdir / "gunicorn.log")
            worker = load.start_worker(url, workdir / "worker.log")
            base = f"http://127.0.0.1:{port}"
            time.sleep(5)  # the worker loads the theme model on its first task; warm it
            post_answers(base, prompt_id, 20, None)
            wait_until_placed(url, 120)
            warm = len(latencies(url))

            count = int(args.rate * args.seconds)
            began = time.monotonic()
            statuses = post_answers(base, prompt_id, count, args.rate)
            sent_in = time.monotonic() - began
            wait_until_placed(url, 300)
            measured = latencies(url)[warm:]  # without the warm-up answers
            quantiles = statistics.quantiles(measured, n=100)
            within = sum(1 for t in measured if t <= 5.0) / len(measured)
            print(
                f"1. {count} answers at {args.rate:.0f}/s (sent in {sent_in:.1f} s, "
                f"statuses {statuses}); arrival to theme, {len(measured)} answers: "
                f"p50 {quantiles[49]:.2f} s, p95 {quantiles[94]:.2f} s, "
                f"p99 {quantiles[98]:.2f} s, max {max(measured):.2f} s; "
                f"{within:.1%} within 5 s"
            )

            load.stop(worker)
            worker = None
            statuses = post_answers(base, prompt_id, args.backlog, None)
            waiting = load.unplaced(url)
            worker = load.start_worker(url, workdir / "worker-2.log")
            took = wait_until_placed(url, 600)
            left = load.unplaced(url)
            print(
                f"2. backlog of {waiting} answers (statuses {statuses}) placed by one new "
                f"worker in {took:.1f} s (start-up included): {waiting / took:.0f} answers/s"
                + (f"; {left} left" if left else "")
            )
        finally:
            for process in (server, worker):
                if process is not None:
                    load.stop(process)
            if args.db == "postgresql":
                load.stop_postgres(workdir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
