"""Theme identity across runs and staff curation constraints."""

from __future__ import annotations

import random
from typing import Any

import pytest

from nlp import Curation, Theme, ThemeModel, fresh_theme_id


def fit(rows: list[dict[str, Any]], **kw: Any) -> ThemeModel:
    return ThemeModel(seed=0).fit([r["text"] for r in rows], [r["id"] for r in rows], **kw)


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def by_id(model: ThemeModel) -> dict[str, Theme]:
    return {t.id: t for t in model.themes_}


def test_same_answers_same_themes(small_rows: list[dict], small_model: ThemeModel) -> None:
    again = fit(small_rows, previous=small_model.themes_)
    assert again.to_json() == small_model.to_json()


def test_ten_percent_more_answers_keeps_identity(known_rows: list[dict]) -> None:
    rows = list(known_rows)
    random.Random(7).shuffle(rows)
    base = rows[: int(len(rows) / 1.1)]
    first = fit(base)
    second = fit(rows, previous=first.themes_)
    old, new = by_id(first), by_id(second)
    kept = 0
    for tid, theme in old.items():
        if tid in new:
            now = set(new[tid].answer_ids) & {r["id"] for r in base}
            overlap = jaccard(set(theme.answer_ids), now)
            kept += overlap >= 0.5
    assert kept >= 0.8 * len(old)
    fresh = set(new) - set(old)
    assert all(int(t[1:]) > max(int(x[1:]) for x in old) for t in fresh)
    # Labels of kept themes are (mostly) unchanged too.
    same_label = sum(new[t].label == old[t].label for t in old if t in new)
    assert same_label >= 0.5 * len(old)


def _theme_of(model: ThemeModel, answer_id: str) -> str:
    return model.assignments_[answer_id][0]


def _previous(model: ThemeModel) -> list[Theme]:
    return [Theme.from_dict(t.to_dict()) for t in model.themes_]


def test_rename_survives_rerun(small_rows: list[dict], small_model: ThemeModel) -> None:
    target = small_model.themes_[0]
    cur = Curation(renamed={target.id: "Legepladser og natur"})
    again = fit(small_rows, previous=_previous(small_model), curation=cur)
    theme = by_id(again)[target.id]
    assert theme.label == "Legepladser og natur"
    assert theme.auto_label == target.auto_label
    assert theme.curated and not by_id(again)[small_model.themes_[1].id].curated


def test_merge_survives_rerun(small_rows: list[dict], small_model: ThemeModel) -> None:
    a, b = small_model.themes_[0], small_model.themes_[1]
    prev = _previous(small_model)
    merged = Theme(id=a.id, label="samlet", answer_ids=a.answer_ids + b.answer_ids)
    prev = [merged] + [t for t in prev if t.id not in (a.id, b.id)]
    again = fit(small_rows, previous=prev, curation=Curation(merged=[[a.id, b.id]]))
    themes = by_id(again)
    assert b.id not in themes
    union = set(a.answer_ids) | set(b.answer_ids)
    assert len(union & set(themes[a.id].answer_ids)) >= 0.9 * len(union)
    for tid, theme in themes.items():
        if tid != a.id:
            assert len(set(theme.answer_ids) & union) <= 0.2 * theme.size


def test_split_survives_rerun(small_rows: list[dict], small_model: ThemeModel) -> None:
    source = small_model.themes_[0]
    part = source.answer_ids[-4:]
    new_id = fresh_theme_id(t.id for t in small_model.themes_)
    prev = _previous(small_model)
    prev[0].answer_ids = [a for a in source.answer_ids if a not in part]
    prev.append(Theme(id=new_id, label="udskilt", answer_ids=part))
    cur = Curation(split={new_id: part}, renamed={new_id: "Udskilt af staff"})
    again = fit(small_rows, previous=prev, curation=cur)
    themes = by_id(again)
    assert themes[new_id].label == "Udskilt af staff"
    assert set(part) <= set(themes[new_id].answer_ids)
    assert all(again.assignments_[a] == [new_id] for a in part)
    assert source.id in themes


def test_move_pin_exclude_hide_survive_rerun_with_new_answers(
    small_rows: list[dict], small_model: ThemeModel
) -> None:
    themes = small_model.themes_
    src, dst = themes[0], themes[1]
    moved = src.answer_ids[0]
    excluded = [themes[2].answer_ids[0], themes[2].answer_ids[1]]
    pinned = [a for a in dst.answer_ids if a != moved][-3:]  # the least central ones
    cur = Curation(
        moved={moved: dst.id},
        pinned={dst.id: pinned},
        excluded=excluded,
        hidden=[themes[3].id],
    )
    extra = [
        {"id": "n1", "text": "Flere gynger og mere skygge på legepladsen"},
        {"id": "n2", "text": "Cykelstien til skolen er farlig, bilerne kører for stærkt"},
    ]
    again = fit(small_rows + extra, previous=_previous(small_model), curation=cur)
    result = by_id(again)
    assert again.assignments_[moved] == [dst.id]
    assert result[dst.id].representative_ids == pinned
    assert all(again.assignments_[a] == [] for a in excluded)
    assert not any(set(excluded) & set(t.answer_ids) for t in again.themes_)
    assert result[themes[3].id].hidden
    assert sum(t.hidden for t in again.themes_) == 1
    assert {"n1", "n2"} <= set(again.assignments_)
    # Themes nobody touched keep their ids too.
    assert {t.id for t in themes} <= set(result)


def test_curated_theme_is_recreated_if_clustering_loses_it(small_rows: list[dict]) -> None:
    # Staff grouped two unrelated answers as their own theme: no clustering would find it.
    odd = [small_rows[0]["id"], small_rows[30]["id"]]
    prev = [Theme(id="t9", label="staff", answer_ids=odd)]
    cur = Curation(renamed={"t9": "Staffs egen gruppe"}, moved={a: "t9" for a in odd})
    model = fit(small_rows, previous=prev, curation=cur)
    assert set(odd) <= set(by_id(model)["t9"].answer_ids)
    assert all(model.assignments_[a] == ["t9"] for a in odd)
    assert all(int(t.id[1:]) > 9 for t in model.themes_ if t.id != "t9")


def test_curation_dict_round_trip() -> None:
    cur = Curation(renamed={"t1": "x"}, merged=[["t1", "t2"]], excluded=["a"])
    assert Curation.from_dict(cur.to_dict()) == cur
    assert cur.theme_ids() == {"t1", "t2"}
    assert Curation.from_dict({"excluded": [7], "moved": {8: "t1"}}).moved == {"8": "t1"}


def test_integer_ids_from_a_database_are_accepted(small_rows: list[dict]) -> None:
    texts = [r["text"] for r in small_rows]
    ids: Any = list(range(len(texts)))  # integer primary keys, as a database would give them
    first = ThemeModel(seed=0).fit(texts, ids)
    theme = first.themes_[0]
    int_ids: Any = [int(a) for a in theme.answer_ids]
    prev = [Theme(id=theme.id, answer_ids=int_ids)]
    cur = Curation(excluded=int_ids[:1])
    again = ThemeModel(seed=0).fit(texts, ids, previous=prev, curation=cur)
    assert again.assignments_[theme.answer_ids[0]] == []
    assert theme.id in by_id(again)


@pytest.mark.parametrize("seed", [0, 3])
def test_previous_with_unknown_answers_is_harmless(small_rows: list[dict], seed: int) -> None:
    prev = [Theme(id="t5", answer_ids=["gone1", "gone2"]), Theme(id="t2", answer_ids=[])]
    texts, ids = [r["text"] for r in small_rows], [r["id"] for r in small_rows]
    model = ThemeModel(seed=seed).fit(texts, ids, previous=prev)
    assert all(int(t.id[1:]) > 5 for t in model.themes_)
