"""gunicorn settings for production-like serving (``make run``)."""

import multiprocessing
import os
from collections.abc import Mapping


def rate_limit_storage(env: Mapping[str, str]) -> str:
    """Where the app counts the rate limits (as app.config.rate_limit_storage; this file does
    not import the app, which the workers load after the fork)."""
    return env.get("RATELIMIT_STORAGE_URI") or env.get("REDIS_URL") or "memory://"


def web_workers(env: Mapping[str, str], cores: int) -> int:
    """How many gunicorn worker processes serve the app: ``WEB_CONCURRENCY``, else two per core
    with PostgreSQL and the rate limits in Redis, else one.

    One process is what the embedded defaults hold: SQLite takes one writer at a time (writers
    of several processes wait for its lock in sleeps of up to 100 ms: a p99 of 0.6 s under
    load, bench/README.md), and limits counted in a process's memory hold only in it.
    """
    if env.get("WEB_CONCURRENCY"):
        return int(env["WEB_CONCURRENCY"])
    database = env.get("DATABASE_URL") or "sqlite://"
    shared_limits = not rate_limit_storage(env).startswith("memory://")
    return cores * 2 if shared_limits and not database.startswith("sqlite") else 1


def check_web_workers(env: Mapping[str, str], workers: int) -> None:
    """A ``ValueError`` when several processes would each count the rate limits in their own
    memory (a client would get the limit once per process)."""
    switch = env.get("RATELIMIT_ENABLED")
    limits_on = not switch or switch.strip().lower() in ("1", "true", "yes", "on")
    if workers > 1 and limits_on and rate_limit_storage(env).startswith("memory://"):
        raise ValueError(
            f"WEB_CONCURRENCY={workers}: several worker processes need the rate limits in a "
            "store they share: set REDIS_URL (or RATELIMIT_STORAGE_URI=redis://...), or run "
            "one worker process"
        )


bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = web_workers(os.environ, multiprocessing.cpu_count())
check_web_workers(os.environ, workers)
worker_class = "gthread"
# Each open event stream of the live wall holds a thread (asleep until the process's one
# poller has news), so a worker has many: 128 threads (256 when it is the only one), of which
# 8 are always kept for the other routes (RESERVED_THREADS). Idle threads cost nothing; they
# are started on demand.
threads = int(os.environ.get("GUNICORN_THREADS") or (256 if workers == 1 else 128))
RESERVED_THREADS = 8
timeout = 60
# Request lines up to gunicorn's maximum reach the app, which answers a URL over its own limit
# (MAX_URL_LENGTH in app/config.py, 4096) with 414 and the security headers, in JSON under
# /api/. gunicorn's default (4094) would refuse them first with a bare HTML 400. Only a line
# over 8190 bytes still gets gunicorn's 400 (a load balancer in front refuses such lines too).
limit_request_line = 8190
graceful_timeout = 20
keepalive = 5
# No periodic worker recycling: with every worker restarting at once under load it caused all
# the errors and the multi-second p99 in bench/load (see bench/load/RESULTS.md).
max_requests = 0
accesslog = "-"
# Citizens answer anonymously: no client IP addresses in the access log, and the path without
# its query string (a kiosk's link carries its device token).
access_log_format = '"%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'


def live_streams(threads: int) -> int:
    """The live-wall event streams one worker may hold: its threads less the reserved ones
    (half of them for a small thread count)."""
    return max(threads // 2, threads - RESERVED_THREADS)


def post_worker_init(worker):
    """Load the guard's name lists and the theme engine's spaCy pipeline, compile the
    templates and show a wall page once (app.warmup) before the first request, not during it,
    and freeze what was loaded for the garbage collector; size the live wall's
    stream cap to the worker's threads; end the live streams at once when the worker is
    asked to stop (else a graceful restart waits ``graceful_timeout`` for them)."""
    import gc
    import signal

    from app.warmup import warm_up as warm_up_app
    from nlp import warm_up as warm_up_nlp
    from surveys.privacy import warm_up

    warm_up()
    warm_up_nlp()
    app = worker.wsgi
    warm_up_app(app)
    # What is loaded now (spaCy, the name lists, the app) lives as long as the worker: out of
    # the garbage collector's sight, its full collections stop pausing every thread of the
    # worker (measured under load: 150-525 ms before, at most 65 ms after).
    gc.collect()
    gc.freeze()
    app.config["LIVE_MAX_STREAMS"] = live_streams(worker.cfg.threads)

    def stop(signum, frame):
        hub = app.extensions.get("stemmer.live_hub")
        if hub is not None:
            hub.close(timeout=0)
        worker.handle_exit(signum, frame)

    signal.signal(signal.SIGTERM, stop)
    signal.siginterrupt(signal.SIGTERM, False)  # as gunicorn had it: no interrupted requests
