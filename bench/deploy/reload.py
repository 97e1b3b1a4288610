"""What a ``systemctl reload stemmer-web`` (gunicorn's HUP) costs: how long requests wait while
the new worker processes warm up, and how many fail at the moment of the reload.

    .venv/bin/python bench/deploy/reload.py [--workers 2] [--seconds 90]

gunicorn with the project's gunicorn.conf.py on a fresh SQLite database; a client asks for
/healthz every 50 ms; after the start the master gets SIGHUP. Prints the start-up time, the
failed requests and the time from the HUP until a request is answered again.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.load.servers import gunicorn  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=90, help="how long to watch after HUP")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="stemmer-reload-"))
    url = f"sqlite:///{work / 'stemmer.db'}"
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "PYTHONPATH": str(ROOT)}
    flask = str(Path(sys.executable).with_name("flask"))
    subprocess.run([flask, "--app", "wsgi", "db", "upgrade"], env=env, cwd=ROOT, check=True)
    started = time.monotonic()
    with gunicorn(url, work, workers=args.workers, threads=4, start_timeout=300) as server:
        print(f"started: workers answering after {time.monotonic() - started:.1f} s")
        answered: list[tuple[float, float]] = []  # (sent, took) of each 200
        failed: list[tuple[float, str]] = []
        stop = threading.Event()

        def ask() -> None:
            while not stop.is_set():
                sent = time.monotonic()
                try:
                    status = requests.get(f"{server.url}/healthz", timeout=120).status_code
                    if status == 200:
                        answered.append((sent, time.monotonic() - sent))
                    else:
                        failed.append((sent, str(status)))
                except requests.RequestException as error:
                    failed.append((sent, type(error).__name__))
                time.sleep(0.05)

        clients = [threading.Thread(target=ask) for _ in range(4)]
        for client in clients:
            client.start()
        time.sleep(3)
        hup = time.monotonic()
        server.process.send_signal(signal.SIGHUP)
        time.sleep(args.seconds)
        stop.set()
        for client in clients:
            client.join()
    after = [(sent + took - hup, took) for sent, took in answered if sent + took > hup]
    print(f"failed after the HUP: {len([f for f in failed if f[0] >= hup - 1])} {failed[:4]}")
    if after:
        print(f"longest wait of a request: {max(took for _, took in after):.1f} s")
        waited = [done for done, took in after if took > 1]
        if waited:
            print(f"requests waited until {max(waited):.1f} s after the HUP")
    else:
        print(f"no request answered within {args.seconds:.0f} s after the HUP")


if __name__ == "__main__":
    main()
