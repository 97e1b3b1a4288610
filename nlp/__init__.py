"""Theme engine: Danish free-text answers -> named themes staff can trust and curate.

Pure Python (spaCy + scikit-learn), no Flask or database. Typical use::

    from nlp import ThemeModel
    model = ThemeModel(n_themes="auto", seed=0).fit(texts, ids)
    model.themes_        # list[Theme], largest first
    model.assignments_   # answer id -> [theme id, ...] ([] = "andet")
    model.transform(["nye svar"])
    blob = model.to_bytes(); ThemeModel.from_bytes(blob)

Optional semantic vectors (issue 22): ``fit(texts, ids, vectors=nlp.semantic.embed(texts))``
(stored vectors as float16 are fine). A staff codebook: ``nlp.codebook`` (`Codebook`,
`CodebookSorter`, `sort_into_codebook`).
"""

from nlp.labels import make_label
from nlp.model import Curation, Theme, ThemeModel, fresh_theme_id, label_groups
from nlp.text import TextOptions, normalize_text, warm_up

__all__ = [
    "Curation",
    "TextOptions",
    "Theme",
    "ThemeModel",
    "fresh_theme_id",
    "label_groups",
    "make_label",
    "normalize_text",
    "warm_up",
]
