"""Start the app as in production (gunicorn with the project's gunicorn.conf.py) for tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def children(pid: int) -> set[int]:
    """The ids of the direct child processes of ``pid`` (gunicorn's workers)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may contain spaces: split after it.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.add(int(entry.name))
    return found


@dataclass
class Server:
    """A running gunicorn master."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def workers(self) -> set[int]:
        """The master's current worker processes."""
        return children(self.process.pid)

    def wait_for_workers(self, count: int, timeout: float = 90) -> set[int]:
        """Wait until ``count`` workers exist and the server answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            workers = self.workers()
            if len(workers) >= count:
                try:
                    if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                        return workers
                except requests.RequestException:
                    pass
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"gunicorn did not start:\n{self.log.read_text()[-3000:]}")


@contextmanager
def gunicorn(
    database_url: str,
    workdir: Path,
    *,
    workers: int = 2,
    threads: int | None = 4,
    env: dict[str, str] | None = None,
    start_timeout: float = 90,
) -> Iterator[Server]:
    """gunicorn on a free loopback port serving the app on ``database_url`` (``threads`` None:
    as gunicorn.conf.py has it; ``env`` adds to or overrides its environment, e.g. rate
    limits, off by default; ``start_timeout``: seconds to wait for the workers)."""
    port = free_port()
    log = workdir / f"gunicorn-{port}.log"
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "load-test-secret",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        "RATELIMIT_ENABLED": "0",
    }
    environment.pop("GUNICORN_THREADS", None)
    if threads is not None:
        environment["GUNICORN_THREADS"] = str(threads)
    environment.update(env or {})
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [GUNICORN, "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        server.wait_for_workers(workers, timeout=start_timeout)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


FLASK = str(Path(sys.executable).with_name("flask"))


@dataclass
class Worker:
    """A running task-queue worker (``flask --app wsgi worker``)."""

    process: subprocess.Popen[bytes]
    log: Path

    def wait_for_log(self, text: str, timeout: float = 120) -> None:
        """Wait until the worker's log shows ``text``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log.read_text(errors="replace"):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"worker never logged {text!r}:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """``kill -9``: no chance to finish or clean up anything."""
        self.process.kill()
        self.process.wait()


@contextmanager
def queue_worker(
    database_url: str, workdir: Path, *, env: dict[str, str] | None = None, name: str = "worker"
) -> Iterator[Worker]:
    """A worker on ``database_url`` taking tasks from the queue ``env`` names (REDIS_URL or
    STEMMER_QUEUE_FILE; by default this test process's own queue file); stopped after."""
    log = workdir / f"{name}.log"
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "load-test-secret",
        "STEMMER_QUEUE_IMMEDIATE": "0",
        "FLASK_APP": "wsgi",
        **(env or {}),
    }
    with open(log, "ab") as output:
        process = subprocess.Popen(
            [FLASK, "--app", "wsgi", "worker", "--verbose"],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    worker = Worker(process, log)
    try:
        yield worker
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # Huey's graceful stop
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
