"""Load benchmark: the app as in production (gunicorn + gunicorn.conf.py) driven by wrk.

For each database (SQLite, PostgreSQL) it migrates a fresh database, adds a wall with 300
approved notes, starts gunicorn on loopback and runs wrk for a fixed time (``--duration``
seconds per route, in ``--rounds`` turns of (a), (b), (c), so that a slow minute of a shared
machine weighs on every route alike) against:

  (a) GET /healthz                       the minimal route of the same stack (the ceiling)
  (b) GET /w/<slug>                       the wall page with 300 approved notes
  (c) POST /api/v1/walls/<slug>/answers   answers with unique client_submission_ids

and prints requests/s, p50/p99 latency, errors, the ratios (b)/(a) and (c)/(a), and whether
every answer confirmed to wrk is in the database exactly once (and how many more rows exist:
requests still in flight when wrk stopped). ``--live`` also opens 200 live-wall viewers
(server-sent events, falling back to polling as live.js does) and measures (a) and (b)
while they are connected. ``--themes`` gives the campaign a theme run first (as the demo
campaign has) and starts a task-queue worker beside gunicorn, as ``make run`` does: every
answer of (c) is then put under the themes by the worker, and the run reports how long the
worker took to place them all after wrk stopped.

Run from the repository root (installs Debian's wrk when missing; PostgreSQL comes from
scripts/pg-test-server):

    .venv/bin/python bench/load/run.py [--db sqlite|postgresql|both] [--duration 15]
        [--rounds 3] [--connections 16] [--live] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

SLUG = "belastning"
#: The wall (c) answers (and the live viewers watch); (b) reads SLUG.
ANSWER_SLUG = "belastning-svar"
NOTES = 300
PG_PORT = int(os.environ.get("LOAD_PG_PORT", "54391"))
#: Limits far above the load, so the rate limiter's cost is measured but it never refuses.
HIGH_LIMIT = "10000000 per minute"

#: Extra gunicorn settings for experiments (``--gunicorn-args``), on top of gunicorn.conf.py.
GUNICORN_ARGS = ""

#: Issue 21's targets: the answer POST at 0.3x /healthz on SQLite and 0.4x on PostgreSQL.
POST_TARGETS = {"sqlite": 0.3, "postgresql": 0.4}
TARGETS = {"b/a": 0.3, "p99_ms": 250.0}


@dataclass
class Run:
    """One wrk run."""

    name: str
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: int
    status_errors: int

    @property
    def rps(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        """Socket errors, timeouts and non-2xx/3xx answers."""
        return self.socket_errors + self.status_errors


@dataclass
class Result:
    """All runs against one database."""

    database: str
    runs: dict[str, Run] = field(default_factory=dict)
    confirmed: int = 0
    stored: int = 0
    missing: int = 0
    duplicated: int = 0
    refused: dict[str, int] = field(default_factory=dict)  # "503 database_unavailable": n
    live: dict[str, Any] = field(default_factory=dict)
    #: --themes: answers not yet under themes when wrk stopped, seconds to place them all
    #: (and how many were still left after 10 minutes).
    backlog: int | None = None
    drain_seconds: float = 0.0
    left_unplaced: int = 0

    def ratio(self, key: str) -> float:
        """Throughput of run ``key`` relative to the minimal route."""
        return self.runs[key].rps / self.runs["a"].rps


def ensure_wrk() -> str:
    """The wrk binary; installed from Debian's packages when missing."""
    found = shutil.which("wrk")
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    print("Installing Debian's wrk ...", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)
    return shutil.which("wrk") or "wrk"


def free_port() -> int:
    """A free port on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prepare_database(url: str) -> int:
    """Migrate, then add the benchmark wall with its approved notes; return a prompt id."""
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "FLASK_APP": "wsgi"}
    subprocess.run(
        [str(BIN / "flask"), "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    from surveys.db import make_engine, make_session_factory
    from surveys.models import (
        Answer,
        AnswerStatus,
        Audience,
        Campaign,
        Channel,
        Moderation,
        Organisation,
        Prompt,
        Wall,
    )

    texts = [
        json.loads(line)["text"]
        for line in (ROOT / "surveys" / "demo" / "answers.jsonl").read_text().splitlines()
        if line.strip()
    ]
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        organisation = Organisation(slug="bench", name="Belastningskommune")
        session.add(organisation)
        session.flush()
        campaign = Campaign(organisation_id=organisation.id, slug="bench", title="Belastning")
        session.add(campaign)
        session.flush()

        def bench_wall(slug: str, title: str, questions: list[str]) -> Wall:
            wall = Wall(
                campaign_id=campaign.id,
                slug=slug,
                title=title,
                audience=Audience.PARENTS,
                moderation=Moderation.POST,
                profile_questions=["role", "age_group", "area"],
                areas=["Rønne", "Nexø"],
                prompts=[Prompt(position=n, text=q) for n, q in enumerate(questions)],
            )
            session.add(wall)
            return wall

        question = "Hvad er det gode børneliv her?"
        wall = bench_wall(SLUG, "Det gode børneliv", [question, "Hvad skal der gøres mere af?"])
        # (c) answers another wall of the campaign, so that (b) reads 300 notes in every round.
        answers_wall = bench_wall(ANSWER_SLUG, "Det gode børneliv (svar)", [question])
        session.flush()
        for number in range(NOTES):
            session.add(
                Answer(
                    wall_id=wall.id,
                    prompt_id=wall.prompts[number % 2].id,
                    text=texts[number % len(texts)],
                    status=AnswerStatus.APPROVED,
                    channel=Channel.WEB,
                    client_submission_id=f"seed-{number:06d}",
                )
            )
        session.commit()
        prompt_id = answers_wall.prompts[0].id
    engine.dispose()
    return prompt_id


def build_theme_run(url: str) -> None:
    """A theme run over the benchmark campaign (its 300 notes), as the demo campaign has."""
    from surveys.db import make_engine, make_session_factory
    from surveys.models import Campaign
    from surveys.themes import Scope, build_themes

    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        campaign = session.query(Campaign).filter_by(slug="bench").one()
        build_themes(session, Scope(campaign.id))
    engine.dispose()


def start_worker(url: str, log: Path) -> subprocess.Popen[bytes]:
    """A task-queue worker (``flask --app wsgi worker``), as ``make run`` starts one."""
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-secret", "FLASK_APP": "wsgi"}
    with open(log, "wb") as output:
        return subprocess.Popen(
            [str(BIN / "flask"), "--app", "wsgi", "worker"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def unplaced(url: str) -> int:
    """Answers not yet put under the themes by the worker."""
    from sqlalchemy import func, select

    from surveys.db import make_engine
    from surveys.models import Answer

    engine = make_engine(url)
    with engine.connect() as connection:
        count = connection.scalar(select(func.count()).where(Answer.themes_placed_at.is_(None)))
    engine.dispose()
    return int(count or 0)


def start_gunicorn(url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    """gunicorn with the project's config, as ``make run`` starts it."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-secret",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "RATELIMIT_ANSWERS": HIGH_LIMIT,
        "RATELIMIT_KIOSK": HIGH_LIMIT,
        "RATELIMIT_REACTIONS": HIGH_LIMIT,
    }
    if GUNICORN_ARGS:
        env["GUNICORN_CMD_ARGS"] = GUNICORN_ARGS
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 300  # four workers warming up on a busy shared machine
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"gunicorn did not start; see {log}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop gunicorn gracefully."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wrk(
    binary: str,
    name: str,
    url: str,
    args: argparse.Namespace,
    script: str = "report.lua",
    script_args: tuple[str, ...] = (),
    duration: float | None = None,
) -> Run:
    """One wrk run; latency figures from the report script's JSON line."""
    command = [
        binary,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{int(duration or args.duration)}s",
        "--timeout",
        "10s",
        "-s",
        str(HERE / script),
        url,
    ]
    if script_args:
        command += ["--", *script_args]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(x for x in output.splitlines() if x.startswith("WRK_JSON "))
    data = json.loads(line.removeprefix("WRK_JSON "))
    return Run(
        name=name,
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
        status_errors=data["status"],
    )


def merged(runs: list[Run]) -> Run:
    """Rounds of one route as one run: requests over time summed, the median p50, and the
    worst p90, p99 and maximum of any round (percentiles of rounds cannot be combined)."""
    return Run(
        name=runs[0].name,
        requests=sum(r.requests for r in runs),
        seconds=sum(r.seconds for r in runs),
        p50_ms=statistics.median(r.p50_ms for r in runs),
        p90_ms=max(r.p90_ms for r in runs),
        p99_ms=max(r.p99_ms for r in runs),
        max_ms=max(r.max_ms for r in runs),
        socket_errors=sum(r.socket_errors for r in runs),
        status_errors=sum(r.status_errors for r in runs),
    )


def count_answers(url: str, prefix: str) -> dict[str, int]:
    """Rows per client_submission_id among the benchmark's answers."""
    from sqlalchemy import func, select

    from surveys.db import make_engine
    from surveys.models import Answer

    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            select(Answer.client_submission_id, func.count())
            .where(Answer.client_submission_id.like(f"{prefix}-%"))
            .group_by(Answer.client_submission_id)
        ).all()
    engine.dispose()
    return {submission: count for submission, count in rows}


def start_postgres(workdir: Path) -> str:
    """A throwaway PostgreSQL server; returns the URL of a fresh database on it."""
    data = workdir / "pg"
    env = {**os.environ, "PGTEST_PORT": str(PG_PORT)}
    admin = subprocess.run(
        [str(ROOT / "scripts" / "pg-test-server"), "start", str(data)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout.strip()
    from sqlalchemy import create_engine, text

    from surveys.db import normalise_url

    engine = create_engine(normalise_url(admin), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS stemmer_load"))
        connection.execute(text("CREATE DATABASE stemmer_load"))
    engine.dispose()
    return admin.rsplit("/", 1)[0] + "/stemmer_load"


def start_redis(workdir: Path) -> str:
    """A throwaway Redis server on loopback (scripts/redis-test-server); its URL."""
    return subprocess.run(
        [str(ROOT / "scripts" / "redis-test-server"), "start", str(workdir / "redis")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def stop_redis(workdir: Path) -> None:
    """Stop the throwaway Redis server."""
    subprocess.run(
        [str(ROOT / "scripts" / "redis-test-server"), "stop", str(workdir / "redis")],
        check=False,
    )


def stop_postgres(workdir: Path) -> None:
    """Stop the throwaway server."""
    env = {**os.environ, "PGTEST_PORT": str(PG_PORT)}
    subprocess.run(
        [str(ROOT / "scripts" / "pg-test-server"), "stop", str(workdir / "pg")],
        check=False,
        env=env,
    )


def bench(database: str, binary: str, args: argparse.Namespace, workdir: Path) -> Result:
    """Run (a), (b), (c) (and the live-view runs) against one database."""
    url = f"sqlite:///{workdir / 'load.db'}" if database == "sqlite" else start_postgres(workdir)
    result = Result(database)
    server = worker = None
    redis = args.redis == "on" or (args.redis == "auto" and database == "postgresql")
    try:
        if redis:
            # The scale-out layout (README "Drift"): queue and rate-limit counters in Redis.
            redis_url = start_redis(workdir)
            os.environ["REDIS_URL"] = redis_url
            os.environ["RATELIMIT_STORAGE_URI"] = redis_url
        prompt_id = prepare_database(url)
        if args.themes:
            build_theme_run(url)
            os.environ["STEMMER_QUEUE_FILE"] = str(workdir / "queue.db")
            worker = start_worker(url, workdir / f"worker-{database}.log")
        port = free_port()
        server = start_gunicorn(url, port, workdir / f"gunicorn-{database}.log")
        base = f"http://127.0.0.1:{port}"
        # The workers warm themselves up at start (app.warmup); these runs warm the rest, but
        # wrk's 16 kept-alive connections may all land on some of the workers.
        for path in ("/healthz", f"/w/{SLUG}"):
            wrk(binary, "warm-up", base + path, args, duration=3)
        prefix = f"load{uuid.uuid4().hex[:6]}"
        logs = workdir / f"confirmed-{database}"
        logs.mkdir()
        # (a), (b), (c) in turn, ``--rounds`` times, each for its share of ``--duration``: a
        # slower minute of this shared machine then weighs on every route alike.
        rounds: dict[str, list[Run]] = {"a": [], "b": [], "c": []}
        seconds = max(1.0, args.duration / args.rounds)
        for number in range(args.rounds):
            rounds["a"].append(
                wrk(binary, "(a) GET /healthz", base + "/healthz", args, duration=seconds)
            )
            rounds["b"].append(
                wrk(binary, f"(b) GET /w/{SLUG}", base + f"/w/{SLUG}", args, duration=seconds)
            )
            round_logs = logs / f"round-{number}"
            round_logs.mkdir()
            rounds["c"].append(
                wrk(
                    binary,
                    "(c) POST answers",
                    base + f"/api/v1/walls/{ANSWER_SLUG}/answers",
                    args,
                    script="post_answers.lua",
                    script_args=(f"{prefix}-r{number}", str(prompt_id), str(round_logs)),
                    duration=seconds,
                )
            )
        for key, runs in rounds.items():
            result.runs[key] = merged(runs)
        time.sleep(1)  # let requests still in flight finish
        confirmed = [
            line
            for log in logs.glob("*/confirmed-*.txt")
            for line in log.read_text().splitlines()
            if line.strip()
        ]
        result.refused = dict(
            Counter(
                line.strip()
                for log in logs.glob("*/refused-*.txt")
                for line in log.read_text().splitlines()
                if line.strip()
            )
        )
        stored = count_answers(url, prefix)
        result.confirmed = len(confirmed)
        result.stored = sum(stored.values())
        result.missing = sum(1 for submission in set(confirmed) if submission not in stored)
        result.duplicated = sum(1 for count in stored.values() if count > 1)
        if args.themes:
            # The worker's backlog when wrk stopped, and how long it took to place it all.
            result.backlog = unplaced(url)
            started = time.monotonic()
            while unplaced(url) and time.monotonic() - started < 600:
                time.sleep(0.5)
            result.drain_seconds = time.monotonic() - started
            result.left_unplaced = unplaced(url)
        if args.live:
            from live import live_viewers  # bench/load/live.py

            with live_viewers(base, ANSWER_SLUG, args.viewers) as viewers:
                time.sleep(3)
                result.runs["a_live"] = wrk(binary, "(a) with viewers", base + "/healthz", args)
                result.runs["b_live"] = wrk(binary, "(b) with viewers", base + f"/w/{SLUG}", args)
                live_logs = workdir / f"confirmed-live-{database}"
                live_logs.mkdir()
                result.runs["c_live"] = wrk(
                    binary,
                    "(c) with viewers",
                    base + f"/api/v1/walls/{ANSWER_SLUG}/answers",
                    args,
                    script="post_answers.lua",
                    script_args=(prefix + "live", str(prompt_id), str(live_logs)),
                )
                result.live = viewers.summary()
    finally:
        if server is not None:
            stop(server)
        if worker is not None:
            stop(worker)
        if database == "postgresql":
            stop_postgres(workdir)
        if redis:
            stop_redis(workdir)
            os.environ.pop("REDIS_URL", None)
            os.environ.pop("RATELIMIT_STORAGE_URI", None)
    return result


def report(results: list[Result], args: argparse.Namespace) -> str:
    """The figures as Markdown."""
    lines = [
        f"wrk -t{args.threads} -c{args.connections}, {args.duration} s per route in "
        f"{args.rounds} rounds of (a), (b), (c), gunicorn "
        f"gunicorn.conf.py ({os.cpu_count()} cores), {NOTES} approved notes on the wall; "
        f"Redis for the queue and rate limits: {args.redis} (auto: with PostgreSQL).",
        "",
        "| database | run | req/s | p50 ms | p99 ms | max ms | errors | ratio to (a) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        for key, run in result.runs.items():
            if key.endswith("_live"):  # compared with the same run without viewers
                ratio = f"{run.rps / result.runs[key.removesuffix('_live')].rps:.2f} *"
            else:
                ratio = f"{run.rps / result.runs['a'].rps:.2f}"
            lines.append(
                f"| {result.database} | {run.name} | {run.rps:,.0f} | {run.p50_ms:.1f} | "
                f"{run.p99_ms:.1f} | {run.max_ms:.0f} | {run.errors} | {ratio} |"
            )
    lines += ["", "| database | (b)/(a) | (c)/(a) | worst p99 ms | errors | answers (c) |"]
    lines += ["| --- | ---: | ---: | ---: | ---: | --- |"]
    for result in results:
        main = [result.runs[k] for k in ("a", "b", "c")]
        lines.append(
            f"| {result.database} | {result.ratio('b'):.2f} | {result.ratio('c'):.2f} | "
            f"{max(r.p99_ms for r in main):.0f} | {sum(r.errors for r in main)} | "
            f"{result.confirmed:,} confirmed, {result.missing} missing, "
            f"{result.duplicated} doubled, {result.stored - result.confirmed} in flight"
            + (f"; refused: {result.refused}" if result.refused else "")
            + " |"
        )
    for result in results:
        if result.backlog is not None:
            lines += [
                "",
                f"Themes ({result.database}): a theme run on the campaign and one worker; "
                f"{result.backlog:,} answers of (c) not yet under their themes when wrk "
                f"stopped, all placed {result.drain_seconds:.0f} s later"
                + (f" ({result.left_unplaced} still not)" if result.left_unplaced else "")
                + ".",
            ]
    for result in results:
        if result.live:
            lines += [
                "",
                f"\\* with {args.viewers} live-wall viewers connected, relative to the same run "
                f"without them. Viewers ({result.database}): {json.dumps(result.live)}",
            ]
    return "\n".join(lines)


def verdict(results: list[Result]) -> list[str]:
    """Targets missed, in words (empty when all are met)."""
    missed = []
    for result in results:
        main = [result.runs[k] for k in ("a", "b", "c")]
        wanted = POST_TARGETS[result.database]
        if result.ratio("c") < wanted:
            missed.append(f"{result.database}: (c)/(a) {result.ratio('c'):.2f} < {wanted}")
        if result.ratio("b") < TARGETS["b/a"]:
            missed.append(f"{result.database}: (b)/(a) {result.ratio('b'):.2f} < 0.3")
        for run in main:
            if run.p99_ms > TARGETS["p99_ms"]:
                missed.append(f"{result.database}: {run.name} p99 {run.p99_ms:.0f} ms > 250")
            if run.errors:
                missed.append(f"{result.database}: {run.name} {run.errors} errors")
        if result.missing or result.duplicated:
            missed.append(f"{result.database}: answers missing or doubled")
    return missed


def keep_logs(workdir: Path, database: str, target: Path) -> None:
    """Copy the run's server logs out of its temporary folder before it is removed."""
    target.mkdir(parents=True, exist_ok=True)
    for source in (workdir / f"gunicorn-{database}.log", workdir / "pg" / "server.log"):
        if source.is_file():
            shutil.copyfile(source, target / f"{database}-{source.name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--duration", type=int, default=15, help="seconds per route")
    parser.add_argument(
        "--rounds", type=int, default=3, help="(a), (b), (c) in turn, this many times"
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--live", action="store_true", help="also measure with live viewers")
    parser.add_argument(
        "--themes", action="store_true", help="a theme run on the campaign and a queue worker"
    )
    parser.add_argument(
        "--redis",
        choices=["auto", "on", "off"],
        default="auto",
        help="task queue and rate-limit counters in a Redis server started for the run "
        "(auto: with PostgreSQL, the scale-out layout; SQLite keeps its embedded defaults)",
    )
    parser.add_argument("--viewers", type=int, default=200)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument(
        "--gunicorn-args", default="", help="extra gunicorn options (GUNICORN_CMD_ARGS)"
    )
    parser.add_argument(
        "--keep-logs",
        type=Path,
        help="copy the gunicorn access log (request times) and PostgreSQL's log here",
    )
    args = parser.parse_args()
    global GUNICORN_ARGS
    GUNICORN_ARGS = args.gunicorn_args
    sys.path.insert(0, str(HERE))
    binary = ensure_wrk()
    databases = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results = []
    for database in databases:
        with tempfile.TemporaryDirectory(prefix="stemmer-load-") as workdir:
            os.chmod(workdir, 0o755)  # the postgres account must reach the data directory
            try:
                results.append(bench(database, binary, args, Path(workdir)))
            finally:
                if args.keep_logs:
                    keep_logs(Path(workdir), database, args.keep_logs)
    print(report(results, args))
    missed = verdict(results)
    print("\nTargets: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))
    if args.json:
        payload = [
            {**asdict(r), "runs": {k: {**asdict(v), "rps": v.rps} for k, v in r.runs.items()}}
            for r in results
        ]
        args.json.write_text(json.dumps(payload, indent=2))
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
