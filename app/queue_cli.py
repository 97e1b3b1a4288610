"""``flask --app wsgi worker``: run the task queue's consumer (Huey) for this app."""

from __future__ import annotations

import logging
import os
import socket
import threading

import click
from flask import current_app
from flask.cli import with_appcontext
from huey.consumer_options import ConsumerConfig
from sqlalchemy.orm import Session, sessionmaker

from surveys import jobs
from surveys.models import utcnow

from . import jobs as _jobs  # noqa: F401  (registers the job tasks with the queue)
from . import maintenance as _maintenance  # noqa: F401  (and the nightly tasks)
from .extensions import db
from .queue import catch_up, huey

log = logging.getLogger(__name__)
#: How often a worker says it is alive (the staff status page, ``surveys.jobs``).
HEARTBEAT_SECONDS = 30.0


def _say_alive(sessions: sessionmaker[Session], stop: threading.Event) -> None:
    """Record this worker process as seen, now and every ``HEARTBEAT_SECONDS``."""
    name = f"{socket.gethostname()}:{os.getpid()}"
    started = utcnow()
    while True:
        try:
            with sessions() as session:
                jobs.seen_worker(session, name, started)
        except Exception:  # the database is away for a moment: the next beat will do
            log.warning("could not record the worker's heartbeat")
        if stop.wait(HEARTBEAT_SECONDS):
            return


def _lower_priority(nice: int) -> None:
    """Give the CPU to the web server first: theme placement and embeddings (the e5 model
    uses every core) would otherwise slow every answer and page on a shared machine."""
    if not 0 <= nice <= 19:
        raise click.ClickException(f"STEMMER_WORKER_NICE must be 0-19, not {nice}.")
    if nice:
        os.nice(nice)


@click.command("worker")
@click.option(
    "--workers", "-w", default=1, show_default=True, help="Tasks run at the same time (threads)."
)
@click.option("--verbose", "-v", is_flag=True, help="Log at debug level.")
@with_appcontext
def worker_command(workers: int, verbose: bool) -> None:
    """Run background tasks (theme placement, jobs, the nightly retention and backup) until
    stopped (Ctrl-C or SIGINT: finish the running tasks; SIGTERM: stop at once; an
    unfinished task is done again later)."""
    if huey.immediate:
        raise click.ClickException(
            "STEMMER_QUEUE_IMMEDIATE is on: tasks run in the web process, not in a worker."
        )
    # flush_locks: a worker killed while running a nightly task (app/maintenance.py) left
    # its lock behind; without this that task would never run again.
    config = ConsumerConfig(
        workers=workers,
        worker_type="thread",
        periodic=True,
        flush_locks=True,
        verbose=verbose or None,
    )
    config.validate()
    _lower_priority(int(current_app.config["WORKER_NICE"]))
    for name in ("huey", "app"):
        config.setup_logger(logging.getLogger(name))
    # Whatever was missed while no worker ran is done first.
    catch_up()
    stop = threading.Event()
    alive = threading.Thread(
        target=_say_alive, args=(db.sessions, stop), name="worker-heartbeat", daemon=True
    )
    alive.start()
    try:
        huey.create_consumer(**config.values).run()
    finally:
        stop.set()
