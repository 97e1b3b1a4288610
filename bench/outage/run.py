"""PostgreSQL stopped in the middle of a write load: what did the clients hear?

Starts a throwaway PostgreSQL server (scripts/pg-test-server), migrates a database, serves
the app with gunicorn and the project's gunicorn.conf.py, and has ``--clients`` threads post
answers as the offline outbox does (each answer keeps its client_submission_id until a 200
or 201 confirms it; a 503, another 5xx or a broken connection is sent again). After
``--before`` seconds the server is stopped (``--mode fast``: ``pg_ctl stop -m fast``;
``crash``: ``-m immediate``, as a crash), kept down ``--down`` seconds, and started again.

Checked, for each mode:

- no response claimed that nothing was stored (English or Danish), and every 503 carried
  ``Retry-After`` and the JSON error ``database_unavailable``;
- no 500 (and no other 5xx than 503);
- every answer confirmed with 201 or 200 is stored exactly once, every answer that got a
  503 on the way is stored exactly once (it was sent again until confirmed);
- how many answers that got a 503 had in fact been stored already (their retry got 200,
  not 201): the reason the 503 must not say "nothing was stored".

Run from the repository root:

    .venv/bin/python bench/outage/run.py [--mode fast|crash|both] [--clients 8]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from surveys.db import make_engine, make_session_factory, normalise_url  # noqa: E402
from tests.databases import migrate  # noqa: E402
from tests.factories import make_wall  # noqa: E402
from tests.load.servers import gunicorn  # noqa: E402

PG_PORT = int(os.environ.get("OUTAGE_PG_PORT", "54393"))
FALSE_CLAIMS = ("nothing was stored", "intet blev gemt", "intet er gemt", "nothing is stored")


@dataclass
class Tally:
    """What the clients heard."""

    statuses: Counter[int] = field(default_factory=Counter)
    connection_errors: int = 0
    confirmed: dict[str, int] = field(default_factory=dict)  # id -> 201 or 200
    got_503: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def send(url: str, prompt_id: int, submission: str, tally: Tally, deadline: float) -> None:
    """Post one answer until it is confirmed, as the outbox does."""
    body = {
        "prompt_id": prompt_id,
        "text": f"Svar {submission}",
        "client_submission_id": submission,
    }
    http = requests.Session()
    while time.monotonic() < deadline:
        try:
            response = http.post(url, json=body, timeout=15, headers={"Accept": "application/json"})
        except requests.RequestException:
            with tally.lock:
                tally.connection_errors += 1
            http.close()
            time.sleep(0.2)
            continue
        status = response.status_code
        lowered = response.text.lower()
        with tally.lock:
            tally.statuses[status] += 1
            if any(claim in lowered for claim in FALSE_CLAIMS):
                tally.problems.append(f"{submission}: {status} claims nothing stored")
            if status == 503:
                tally.got_503.add(submission)
                if response.headers.get("Retry-After") is None:
                    tally.problems.append(f"{submission}: 503 without Retry-After")
                try:
                    code = response.json()["error"]["code"]
                except (ValueError, KeyError, TypeError):
                    code = None
                if code != "database_unavailable":
                    tally.problems.append(f"{submission}: 503 not JSON: {response.text[:80]!r}")
            elif status >= 500:
                tally.problems.append(f"{submission}: {status} {response.text[:80]!r}")
        if status in (200, 201):
            with tally.lock:
                tally.confirmed[submission] = status
            http.close()
            return
        time.sleep(0.2)
    with tally.lock:
        tally.problems.append(f"{submission}: never confirmed")


def pg_ctl(data: Path, *args: str) -> None:
    """pg_ctl of the newest installed PostgreSQL, as the data directory's owner."""
    binary = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))[-1]
    command = [str(binary), "-D", str(data), *args]
    if os.getuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, check=True, capture_output=True)


def server(action: str, data: Path) -> str:
    # Durable commits, as in production: the test server's defaults (fsync and
    # synchronous_commit off) lose acknowledged commits in a crash.
    options = "-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
    env = {**os.environ, "PGTEST_PORT": str(PG_PORT), "PGTEST_OPTS": options}
    script = str(ROOT / "scripts" / "pg-test-server")
    return subprocess.run(
        [script, action, str(data)], check=True, capture_output=True, text=True, env=env
    ).stdout.strip()


def run(mode: str, args: argparse.Namespace, workdir: Path) -> bool:
    data = workdir / f"pg-{mode}"
    admin = normalise_url(server("start", data))
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("CREATE DATABASE stemmer_outage"))
    engine.dispose()
    url = admin.rsplit("/", 1)[0] + "/stemmer_outage"
    migrate(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        prompt_id = make_wall(session, "udfald").prompts[0].id
    tally = Tally()
    try:
        with gunicorn(url, workdir, workers=2, threads=4) as app:
            target = f"{app.url}/api/v1/walls/udfald/answers"
            stop = threading.Event()
            deadline = time.monotonic() + args.before + args.down + 120

            def client(number: int) -> None:
                count = 0
                while not stop.is_set():
                    send(target, prompt_id, f"{mode}-{number:02d}-{count:06d}", tally, deadline)
                    count += 1

            threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
            for thread in threads:
                thread.start()
            time.sleep(args.before)
            stopped = time.monotonic()
            pg_ctl(data, "stop", "-m", "fast" if mode == "fast" else "immediate", "-w")
            time.sleep(args.down)
            server("start", data)
            print(f"{mode}: PostgreSQL down for {time.monotonic() - stopped:.1f} s")
            time.sleep(args.after)
            stop.set()
            for thread in threads:
                thread.join(timeout=180)
        engine.dispose()
        engine = make_engine(url)
        with engine.connect() as connection:
            from surveys.models import Answer

            rows = connection.execute(
                select(Answer.client_submission_id, func.count()).group_by(
                    Answer.client_submission_id
                )
            ).all()
        stored = Counter(dict(rows))
        engine.dispose()
    finally:
        server("stop", data)

    confirmed = tally.confirmed
    doubled = sorted(k for k, v in stored.items() if v != 1)
    missing = sorted(set(confirmed) - set(stored))
    unconfirmed = sorted(set(stored) - set(confirmed))
    answered_503 = tally.got_503
    stored_before_retry = sorted(s for s in answered_503 if confirmed.get(s) == 200)
    print(
        f"{mode}: responses {dict(sorted(tally.statuses.items()))}, "
        f"connection errors {tally.connection_errors}"
    )
    print(
        f"{mode}: {len(confirmed)} answers confirmed, {len(stored)} stored, "
        f"{len(doubled)} stored twice, {len(missing)} confirmed but missing, "
        f"{len(unconfirmed)} stored but never confirmed"
    )
    print(
        f"{mode}: {len(answered_503)} answers got a 503 on the way; "
        f"{len(stored_before_retry)} of them had in fact been stored (their retry got 200); "
        f"each stored exactly once: {all(stored.get(s) == 1 for s in answered_503)}"
    )
    for problem in tally.problems[:20]:
        print(f"{mode}: PROBLEM {problem}")
    return not (tally.problems or doubled or missing or unconfirmed) and all(
        stored.get(s) == 1 for s in answered_503
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["fast", "crash", "both"], default="both")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--before", type=float, default=4.0, help="seconds of load first")
    parser.add_argument("--down", type=float, default=4.0, help="seconds PostgreSQL is down")
    parser.add_argument("--after", type=float, default=4.0, help="seconds of load after")
    args = parser.parse_args()
    modes = ["fast", "crash"] if args.mode == "both" else [args.mode]
    with tempfile.TemporaryDirectory(prefix="stemmer-outage-") as workdir:
        os.chmod(workdir, 0o755)  # the postgres account must reach its data directory
        results = [run(mode, args, Path(workdir)) for mode in modes]
    print("all checks held" if all(results) else "CHECKS FAILED")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
