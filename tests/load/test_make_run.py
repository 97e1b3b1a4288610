"""`make run` is one command: honcho starts the web server and a task-queue worker from the
Procfile, on SQLite, with nothing else to install."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from .servers import ROOT, free_port

pytestmark = pytest.mark.slow

HONCHO = str(Path(sys.executable).with_name("honcho"))


def test_honcho_starts_the_web_server_and_a_worker(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "honcho.log"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",  # as make run has it
        "DATABASE_URL": database_url,
        "SECRET_KEY": "make-run-test",
        "STEMMER_WEB_PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "4",
        "STEMMER_QUEUE_IMMEDIATE": "0",
        "STEMMER_QUEUE_FILE": str(tmp_path / "queue.db"),
    }
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [HONCHO, "start", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        healthy = worker = False
        while time.monotonic() < deadline and not (healthy and worker):
            try:
                healthy = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok
            except requests.RequestException:
                healthy = False
            worker = "Huey consumer started" in log.read_text(errors="replace")
            assert process.poll() is None, log.read_text()[-3000:]
            time.sleep(0.2)
        assert healthy and worker, log.read_text()[-3000:]
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    text = log.read_text(errors="replace")
    assert "web.1" in text and "worker.1" in text
