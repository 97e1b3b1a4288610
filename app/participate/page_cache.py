"""A per-process cache of rendered wall pages (GET without form data).

The wall page is the most requested page at an event and most of its cost is template work
that is the same for every visitor. A page is rendered once per (wall, its fields, locale,
page, chosen question, open/closed state, data version) and kept with the per-visitor parts
replaced by markers: the CSRF token, the form's submission id, and the "enig" state of each
note. Serving a cached page fills those in. The data version (``surveys.reads.
wall_page_version``) changes with every approval, hiding, redaction, "enig" and reply, so a
cached page is never older than the data; entries also expire after ``TTL_SECONDS`` as a
backstop for changes the version does not see (a corrected paper note).

A visit served from the cache reads no wall: the wall's own values in the key come from
``surveys.operations.remembered_wall``, so a change to the wall itself (title, questions,
closing) made in another process shows within ``WALL_CACHE_SECONDS`` (1 s), one made in this
process at once; the data version is read on every visit.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from surveys.models import Wall
from surveys.operations import WallSnapshot

TTL_SECONDS = 30.0
#: How long a visitor waits for another thread rendering the same page before rendering it.
RENDER_WAIT_SECONDS = 5.0
MAX_ENTRIES = 256
CSRF_MARK = "\x00csrf\x00"
SUBMISSION_MARK = "\x00sid\x00"
_PRESSED = re.compile(r'data-answer="(\d+)" aria-pressed="false"')


def wall_fields(wall: Wall | WallSnapshot) -> tuple[object, ...]:
    """The wall's own values that show on its page (the same for a wall and its snapshot)."""
    return (
        wall.id,
        wall.slug,
        wall.title,
        wall.intro,
        wall.audience,
        wall.moderation,
        wall.opens_at,
        wall.closes_at,
        tuple(wall.languages or ()),
        tuple(wall.profile_questions or ()),
        tuple(wall.areas or ()),
        tuple((p.id, p.position, p.text) for p in wall.prompts),
    )


class PageCache:
    """Rendered pages with markers, least recently used first; one per app, thread-safe."""

    def __init__(self, max_entries: int = MAX_ENTRIES, ttl: float = TTL_SECONDS) -> None:
        self.max_entries = max_entries
        self.ttl = ttl
        self._lock = threading.Lock()
        self._pages: OrderedDict[Hashable, tuple[float, str]] = OrderedDict()
        #: key -> [lock held by the thread rendering that page, threads using the lock]
        self._renderers: dict[Hashable, list[Any]] = {}

    @contextmanager
    def rendering(self, key: Hashable, wait: float = RENDER_WAIT_SECONDS) -> Iterator[None]:
        """One thread renders a missing page; the others asking for it meanwhile wait here
        (at most ``wait`` seconds) and then find it cached.

        Without this, every visitor arriving while a page is missing (it expired, or a new
        note changed the data version) renders it at once: under load a dozen renders of the
        same page in one process, and all of them late.
        """
        with self._lock:
            entry = self._renderers.setdefault(key, [threading.Lock(), 0])
            entry[1] += 1
        acquired = entry[0].acquire(timeout=wait)
        try:
            yield
        finally:
            if acquired:
                entry[0].release()
            with self._lock:
                entry[1] -= 1
                if entry[1] == 0:
                    del self._renderers[key]

    def get(self, key: Hashable) -> str | None:
        """The cached page for ``key`` (with markers), or None."""
        now = time.monotonic()
        with self._lock:
            entry = self._pages.get(key)
            if entry is None:
                return None
            stored_at, page = entry
            if now - stored_at > self.ttl:
                del self._pages[key]
                return None
            self._pages.move_to_end(key)
            return page

    def put(self, key: Hashable, page: str, csrf_token: str, submission_id: str) -> str:
        """Store a page rendered with these per-visitor values; return it with markers."""
        marked = page.replace(csrf_token, CSRF_MARK).replace(submission_id, SUBMISSION_MARK)
        with self._lock:
            self._pages[key] = (time.monotonic(), marked)
            self._pages.move_to_end(key)
            while len(self._pages) > self.max_entries:
                self._pages.popitem(last=False)
        return marked

    def __len__(self) -> int:
        return len(self._pages)


def fill(marked: str, csrf_token: str, submission_id: str, agreed: Iterable[int]) -> str:
    """A marked page with this visitor's token, submission id and "enig" state."""
    page = marked.replace(CSRF_MARK, csrf_token).replace(SUBMISSION_MARK, submission_id)
    pressed = {str(answer_id) for answer_id in agreed}
    if pressed:
        page = _PRESSED.sub(
            lambda m: (
                m.group(0).replace('"false"', '"true"') if m.group(1) in pressed else m.group(0)
            ),
            page,
        )
    return page
