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
    database_url: str, workdir: Path, *, workers: int = 2, threads: int | None = 4
) -> Iterator[Server]:
    """gunicorn on a free loopback port serving the app on ``database_url`` (``threads`` None:
    as gunicorn.conf.py has it)."""
    port = free_port()
    log = workdir / f"gunicorn-{port}.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "load-test-secret",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        "RATELIMIT_ENABLED": "0",
    }
    env.pop("GUNICORN_THREADS", None)
    if threads is not None:
        env["GUNICORN_THREADS"] = str(threads)
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [GUNICORN, "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        server.wait_for_workers(workers)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
