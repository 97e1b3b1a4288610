"""Live-wall viewers for the load benchmark: each opens the event stream as live.js does.

A viewer requests ``/live/<slug>/events``; when the server answers 200 it keeps the stream
open and reads events, and reconnects when the server ends it; when it refuses (503: the
process's stream cap is reached) the viewer polls ``/live/<slug>/updates`` every 2 seconds for
a minute and then tries the stream again, as the page's script does.
Runs in a background thread with asyncio, so the benchmark can drive wrk meanwhile.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import urlsplit

POLL_SECONDS = 2.0
RETRY_STREAM_SECONDS = 60.0


class Viewers:
    """Counters shared by the viewer tasks."""

    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.streaming = 0
        self.max_streaming = 0
        self.events = 0
        self.polls = 0
        self.poll_errors = 0
        self.poll_latency: list[float] = []
        self.started = time.monotonic()

    def summary(self) -> dict[str, Any]:
        """What the viewers saw."""
        latencies = sorted(self.poll_latency) or [0.0]
        elapsed = time.monotonic() - self.started
        return {
            "first_answers": dict(self.statuses),
            "streams_open_max": self.max_streaming,
            "events_received": self.events,
            "polls_per_second": round(self.polls / elapsed, 1),
            "poll_errors": self.poll_errors,
            "poll_p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
            "poll_p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 1),
        }


async def _request(host: str, port: int, path: str) -> tuple[int, asyncio.StreamReader, Any]:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream, "
        "application/json\r\nConnection: close\r\n\r\n".encode()
    )
    await writer.drain()
    status_line = await reader.readline()
    status = int(status_line.split()[1]) if status_line else 0
    while (await reader.readline()) not in (b"\r\n", b""):
        pass  # headers
    return status, reader, writer


async def _stream(host: str, port: int, slug: str, viewers: Viewers, stop: asyncio.Event) -> bool:
    """Hold one event stream until the server ends it or the run stops; False if refused."""
    status, reader, writer = await _request(host, port, f"/live/{slug}/events")
    viewers.statuses[status] += 1
    if status != 200:
        writer.close()
        return False
    viewers.streaming += 1
    viewers.max_streaming = max(viewers.max_streaming, viewers.streaming)
    try:
        while not stop.is_set():
            try:
                line = await asyncio.wait_for(reader.readline(), timeout=0.5)
            except TimeoutError:
                continue
            if not line:
                break  # the server ended the stream (it lasts a minute at most)
            if line.startswith(b"event:"):
                viewers.events += 1
    finally:
        viewers.streaming -= 1
        writer.close()
    return True


async def _poll(host: str, port: int, slug: str, viewers: Viewers, stop: asyncio.Event) -> None:
    """Poll for RETRY_STREAM_SECONDS (or until the run stops), as live.js does when refused."""
    until = time.monotonic() + RETRY_STREAM_SECONDS
    while not stop.is_set() and time.monotonic() < until:
        started = time.monotonic()
        try:
            status, reader, writer = await _request(host, port, f"/live/{slug}/updates")
            await reader.read()
            writer.close()
            viewers.polls += 1
            if status != 200:
                viewers.poll_errors += 1
            viewers.poll_latency.append(time.monotonic() - started)
        except OSError:
            viewers.poll_errors += 1
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=POLL_SECONDS)


async def _viewer(base: str, slug: str, viewers: Viewers, stop: asyncio.Event) -> None:
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    while not stop.is_set():
        if await _stream(host, port, slug, viewers, stop):
            with suppress(TimeoutError):  # EventSource reconnects after "retry" (2 s)
                await asyncio.wait_for(stop.wait(), timeout=2.0)
        else:
            await _poll(host, port, slug, viewers, stop)


@contextmanager
def live_viewers(base: str, slug: str, count: int) -> Iterator[Viewers]:
    """``count`` viewers connected while the block runs."""
    viewers = Viewers()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def main() -> None:
        tasks = []
        for _ in range(count):
            tasks.append(asyncio.create_task(_viewer(base, slug, viewers, stop)))
            await asyncio.sleep(0.005)
        await asyncio.gather(*tasks, return_exceptions=True)

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    try:
        yield viewers
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=30)
        loop.close()
