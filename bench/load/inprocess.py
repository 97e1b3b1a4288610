"""In-process cost of the load benchmark's routes (Flask test client, no gunicorn, no wrk).

Migrates a fresh SQLite file database the way the app does (``flask db upgrade``), adds the
same wall with 300 approved notes as ``run.py``, creates the app with the rate limiter on
(limits far above the load, as in ``run.py``) and the guard's name lists loaded, then times

  (a) GET /healthz
  (b) GET /w/<slug>
  (c) POST /api/v1/walls/<slug>/answers   (a new client_submission_id every request)

in interleaved rounds and prints the minimum and the median per request in milliseconds and
the ratios of the medians, (a)/(b) and (a)/(c) (in-process these track wrk's (b)/(a) and
(c)/(a) roughly: gunicorn adds about the same to every route). The machine is shared, so
compare medians of many repetitions, and compare variants inside one process:

    .venv/bin/python bench/load/inprocess.py                      # N = 3000 per route
    .venv/bin/python bench/load/inprocess.py -n 5000 --rounds 10
    .venv/bin/python bench/load/inprocess.py --variant nocache:WALL_PAGE_CACHE=False
    .venv/bin/python bench/load/inprocess.py --profile c [--sort tottime] [--top 40]

``--variant NAME:KEY=VALUE[,KEY=VALUE]`` adds an app with those config overrides (values are
parsed as Python literals when they can be) on the same database; every variant is measured
in the same rounds as the default app. ``--profile`` runs cProfile over one route instead.
"""

from __future__ import annotations

import argparse
import ast
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

from run import ANSWER_SLUG, HIGH_LIMIT, SLUG, prepare_database  # noqa: E402  (bench/load/run.py)

ROUTES = ("a", "b", "c")
NAMES = {"a": "(a) GET /healthz", "b": f"(b) GET /w/{SLUG}", "c": "(c) POST answers"}
TEXTS = (
    "Flere voksne i børnehaven, så der er tid til at lytte til det enkelte barn",
    "Legepladsen ved havnen trænger til skygge og bænke til bedsteforældrene",
    "Bedre cykelstier til skolen, så vi tør lade de store cykle selv om morgenen",
    "Et sted hvor unge kan være om aftenen uden at det koster noget 🎮",
    "Længere åbningstider på biblioteket i weekenden, tak!",
)


@dataclass
class Variant:
    """One app (config overrides) and its samples per route, in seconds."""

    name: str
    overrides: dict[str, Any]
    calls: dict[str, Callable[[], int]] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=lambda: {r: [] for r in ROUTES})


def make_app(url: str, overrides: dict[str, Any]) -> Any:
    """The app as gunicorn serves it: rate limits on (far above the load), guard warmed up."""
    from app import create_app
    from surveys.privacy import warm_up

    config = {
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-secret",
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_ANSWERS": HIGH_LIMIT,
        "RATELIMIT_KIOSK": HIGH_LIMIT,
        "RATELIMIT_REACTIONS": HIGH_LIMIT,
        **overrides,
    }
    app = create_app(config)
    warm_up()
    return app


def wsgi_calls(app: Any, prompt_id: int, tag: str) -> dict[str, Callable[[], int]]:
    """As :func:`route_calls`, but calling the WSGI app with a prepared environ, as gunicorn
    does: no test client building requests and reading responses (about 0.1 ms less each)."""
    from werkzeug.test import EnvironBuilder

    def prepared(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        builder = EnvironBuilder(path=path, method=method, **kwargs)
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        environ.pop("wsgi.input", None)
        return environ

    statuses: list[int] = []

    def start_response(status: str, _headers: Any, _exc_info: Any = None) -> Any:
        statuses.append(int(status[:3]))
        return lambda _data: None

    def call(environ: dict[str, Any], body: bytes = b"") -> int:
        environ = dict(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        result = app(environ, start_response)
        try:
            for _chunk in result:
                pass
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return statuses.pop()

    healthz = prepared("GET", "/healthz")
    wall_page = prepared("GET", f"/w/{SLUG}")
    answers = prepared(
        "POST", f"/api/v1/walls/{ANSWER_SLUG}/answers", content_type="application/json"
    )
    counter = iter(range(10**9))
    prefix = f"ip{tag}{uuid.uuid4().hex[:6]}"

    def post_answer() -> int:
        number = next(counter)
        submission = f"{prefix}-{number}"
        body = json.dumps(
            {
                "prompt_id": prompt_id,
                "text": f"{TEXTS[number % len(TEXTS)]} ({submission})",
                "client_submission_id": submission,
            }
        ).encode()
        return call(answers, body)

    return {"a": lambda: call(healthz), "b": lambda: call(wall_page), "c": post_answer}


def route_calls(app: Any, prompt_id: int, tag: str) -> dict[str, Callable[[], int]]:
    """One function per route that makes one request and returns its status."""
    client = app.test_client()
    counter = iter(range(10**9))
    prefix = f"ip{tag}{uuid.uuid4().hex[:6]}"

    def healthz() -> int:
        return client.get("/healthz").status_code

    def wall_page() -> int:
        return client.get(f"/w/{SLUG}").status_code

    def post_answer() -> int:
        number = next(counter)
        submission = f"{prefix}-{number}"
        return client.post(
            f"/api/v1/walls/{ANSWER_SLUG}/answers",
            json={
                "prompt_id": prompt_id,
                "text": f"{TEXTS[number % len(TEXTS)]} ({submission})",
                "client_submission_id": submission,
            },
        ).status_code

    return {"a": healthz, "b": wall_page, "c": post_answer}


EXPECTED = {"a": 200, "b": 200, "c": 201}


def remove_posted(url: str) -> None:
    """Delete the answers the harness posted, so the wall page keeps its 300 notes.

    (The wall page's data version counts the wall's answers: a wall growing by thousands of
    answers during the measurement would make (b) slower round by round. ``run.py`` measures
    (b) before (c) for the same reason.)
    """
    from sqlalchemy import delete

    from surveys.db import make_engine
    from surveys.models import Answer

    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(delete(Answer).where(Answer.client_submission_id.like("ip%")))
    engine.dispose()


def measure(variants: list[Variant], per_route: int, rounds: int, warm: int, url: str) -> None:
    """Interleaved rounds: every variant and route gets ``per_route / rounds`` requests each."""
    for variant in variants:
        for route, call in variant.calls.items():
            for _ in range(warm):
                status = call()
                if status != EXPECTED[route]:
                    raise SystemExit(f"{variant.name} {NAMES[route]}: status {status}")
    remove_posted(url)
    batch = max(1, per_route // rounds)
    clock = time.perf_counter
    for _ in range(rounds):
        for variant in variants:
            for route in ROUTES:
                call = variant.calls[route]
                samples = variant.samples[route]
                for _ in range(batch):
                    start = clock()
                    call()
                    samples.append(clock() - start)
                if route == "c":
                    remove_posted(url)


def report(variants: list[Variant]) -> str:
    """Min and median per route and variant, and the ratios of the medians."""
    lines = [
        "| variant | route | N | min ms | median ms | ratio (a)/route |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for variant in variants:
        medians = {r: statistics.median(s) for r, s in variant.samples.items()}
        for route in ROUTES:
            samples = variant.samples[route]
            lines.append(
                f"| {variant.name} | {NAMES[route]} | {len(samples)} | "
                f"{min(samples) * 1000:.3f} | {medians[route] * 1000:.3f} | "
                f"{medians['a'] / medians[route]:.2f} |"
            )
    return "\n".join(lines)


def profile(call: Callable[[], int], count: int, sort: str, top: int) -> str:
    """cProfile over ``count`` requests of one route."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        call()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(sort).print_stats(top)
    return out.getvalue()


def parse_variant(text: str) -> Variant:
    """``NAME:KEY=VALUE,KEY=VALUE`` as a variant."""
    name, _, settings = text.partition(":")
    overrides: dict[str, Any] = {}
    for item in filter(None, settings.split(",")):
        key, _, raw = item.partition("=")
        try:
            overrides[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            overrides[key] = raw
    return Variant(name, overrides)


def main(argv: list[str] | None = None) -> None:
    """Prepare the database, build the apps, measure or profile."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=3000, help="requests per route and variant")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds")
    parser.add_argument("--warm", type=int, default=200, help="warm-up requests per route")
    parser.add_argument("--variant", action="append", default=[], metavar="NAME:K=V,...")
    parser.add_argument(
        "--wsgi", action="store_true", help="call the WSGI app directly (no test client)"
    )
    parser.add_argument("--profile", choices=ROUTES, help="profile one route instead")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key")
    parser.add_argument("--top", type=int, default=45)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="stemmer-inprocess-") as workdir:
        url = f"sqlite:///{Path(workdir) / 'inprocess.db'}"
        os.environ.setdefault("RATELIMIT_ENABLED", "1")
        prompt_id = prepare_database(url)
        variants = [Variant("default", {}), *map(parse_variant, args.variant)]
        apps = []
        for number, variant in enumerate(variants):
            app = make_app(url, variant.overrides)
            apps.append(app)
            calls = wsgi_calls if args.wsgi else route_calls
            variant.calls = calls(app, prompt_id, str(number))
        try:
            if args.profile:
                call = variants[0].calls[args.profile]
                for _ in range(args.warm):
                    call()
                print(profile(call, args.n, args.sort, args.top))
                return
            measure(variants, args.n, args.rounds, args.warm, url)
            how = "WSGI calls with prepared environs" if args.wsgi else "Flask test client"
            print(
                f"In-process, {how}, SQLite file database, {args.n} requests per "
                f"route in {args.rounds} interleaved rounds (Python {sys.version.split()[0]})."
            )
            print()
            print(report(variants))
        finally:
            for app in apps:
                app.extensions["stemmer.db"].engine.dispose()


if __name__ == "__main__":
    main()
