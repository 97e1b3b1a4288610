"""Theme identity across runs and staff curation constraints."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
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


@pytest.fixture(scope="module")
def known_model(known_rows: list[dict]) -> ThemeModel:
    return fit(known_rows)


def test_same_realistic_answers_same_themes(
    known_rows: list[dict], known_model: ThemeModel
) -> None:
    # ~470 answers, many naming two or three things: the border cases between themes must
    # not change theme on a re-run that changed nothing.
    again = fit(known_rows, previous=_previous(known_model))
    assert again.to_json() == known_model.to_json()


@pytest.fixture(scope="module")
def demo_rows() -> list[dict[str, Any]]:
    """The demo campaign's ~300 answers (written by someone else than the engine's author)."""
    path = Path(__file__).parents[2] / "surveys" / "demo" / "answers.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [{"id": f"d{i}", "text": row["text"]} for i, row in enumerate(rows)]


def test_same_answers_same_themes_from_the_previous_clusters(demo_rows: list[dict]) -> None:
    # With seed 24, k-means started from the previous themes' means converged elsewhere and
    # moved 12 border answers; started from the previous run's own clusters it cannot.
    first = ThemeModel(seed=24).fit([r["text"] for r in demo_rows], [r["id"] for r in demo_rows])
    again = ThemeModel(seed=24).fit(
        [r["text"] for r in demo_rows],
        [r["id"] for r in demo_rows],
        previous=_previous(first),
        previous_andet=[a for a, found in first.assignments_.items() if not found],
        previous_clusters=first.clusters_,
    )
    assert again.to_json() == first.to_json()
    assert again.clusters_ == first.clusters_


def test_clusters_cover_every_clustered_answer_once(
    known_rows: list[dict], known_model: ThemeModel
) -> None:
    listed = [a for cluster in known_model.clusters_ for a in cluster]
    assert len(listed) == len(set(listed))
    # Every answer with words to cluster on is in one cluster (themed or not).
    assert set(listed) >= {a for a, found in known_model.assignments_.items() if found}
    assert len(known_model.clusters_) == known_model.k_
    sizes = [len(cluster) for cluster in known_model.clusters_]
    assert sizes == sorted(sizes, reverse=True)  # a re-run with fewer themes takes the largest
    restored = ThemeModel.from_bytes(known_model.to_bytes())
    assert restored.clusters_ == known_model.clusters_


def test_model_saved_before_clusters_were_kept_still_seeds_a_rerun(
    small_rows: list[dict], small_model: ThemeModel
) -> None:
    import io

    with np.load(io.BytesIO(small_model.to_bytes())) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(arrays["meta"].tobytes())
    del meta["clusters"]
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    old = ThemeModel.from_bytes(buffer.getvalue())
    assert old.clusters_ == []
    again = fit(small_rows, previous=old.themes_, previous_clusters=old.clusters_)
    assert {t.id for t in again.themes_} == {t.id for t in small_model.themes_}


def test_previous_clusters_of_answers_gone_or_excluded_are_skipped(
    small_rows: list[dict], small_model: ThemeModel
) -> None:
    # Answers deleted since the previous run, and answers staff excluded, leave the clusters
    # they were in; a cluster left empty seeds nothing.
    gone = set(small_model.clusters_[0])
    excluded = small_model.clusters_[1][:2]
    rows = [r for r in small_rows if r["id"] not in gone]
    again = fit(
        rows,
        previous=_previous(small_model),
        previous_clusters=[*small_model.clusters_, ["nobody"]],
        curation=Curation(excluded=excluded),
    )
    listed = {a for cluster in again.clusters_ for a in cluster}
    assert not listed & (gone | set(excluded))
    assert all(again.assignments_[a] == [] for a in excluded)


def test_themes_record_their_main_answers(known_model: ThemeModel) -> None:
    themes = by_id(known_model)
    multi = 0
    for answer_id, found in known_model.assignments_.items():
        for rank, tid in enumerate(found):
            assert (answer_id in themes[tid].primary_ids) == (rank == 0)
            assert answer_id in themes[tid].answer_ids
        multi += len(found) > 1
    assert multi >= 20  # the corpus has answers with two or three themes
    for theme in known_model.themes_:
        assert theme.primary_ids == [a for a in theme.answer_ids if a in theme.primary_ids]
    restored = ThemeModel.from_bytes(known_model.to_bytes())
    assert [t.primary_ids for t in restored.themes_] == [t.primary_ids for t in known_model.themes_]


def test_themed_answers_fit_their_theme(known_model: ThemeModel, known_rows: list[dict]) -> None:
    # An answer in a theme passes the "andet" bar against the theme it is in, as a new answer
    # with the same text would have to.
    from nlp.model import _bag
    from nlp.text import analyze

    z = known_model._featurizer.transform(
        [_bag(u) for u in analyze([r["text"] for r in known_rows])]
    )
    column = {t: j for j, t in enumerate(known_model._centroid_ids)}
    for row, vector in zip(known_rows, z, strict=True):
        found = known_model.assignments_[row["id"]]
        if found:
            cosine = float(vector @ known_model._centroids[column[found[0]]])
            assert cosine >= known_model.andet_threshold - 1e-6, (row["text"], cosine)


def _primary_changes(before: ThemeModel, after: ThemeModel) -> int:
    return sum(found[:1] != after.assignments_[a][:1] for a, found in before.assignments_.items())


def test_answers_stay_in_their_theme_unless_another_fits_clearly_better(
    known_rows: list[dict],
) -> None:
    # 10 % more answers move the centroids a little; with the previous themes given, an
    # answer keeps its theme unless another is clearly (by `stickiness`) closer.
    rows = list(known_rows)
    random.Random(7).shuffle(rows)
    first = fit(rows[: int(len(rows) / 1.1)])

    def refit(stickiness: float) -> ThemeModel:
        model = ThemeModel(seed=0, stickiness=stickiness)
        texts, ids = [r["text"] for r in rows], [r["id"] for r in rows]
        return model.fit(texts, ids, previous=_previous(first))

    loose, sticky = refit(0.0), refit(ThemeModel().stickiness)
    assert _primary_changes(first, sticky) < _primary_changes(first, loose)
    assert _primary_changes(first, sticky) <= 0.01 * len(first.assignments_)


def _unit(*xs: float) -> list[float]:
    v = np.array(xs, dtype=np.float32)
    return list(v / np.linalg.norm(v))


def test_stickiness_rules_on_border_answers() -> None:
    # Theme "a" around (1,0,0), theme "b" around (0,1,0); 20 anchors each.
    rows = [_unit(1, 0, 0)] * 20 + [_unit(0, 1, 0)] * 20
    x = _unit(np.cos(np.radians(50)), np.sin(np.radians(50)), 0)  # a bit closer to b
    y = _unit(np.cos(np.radians(80)), np.sin(np.radians(80)), 0)  # much closer to b
    w = _unit(0, 0.25, 0.968)  # weakly b
    v = _unit(0, 0.9, 0.436)  # clearly b
    u = _unit(0.1, 0, 0.995)  # weakly a, fell out to andet
    z = np.array([*rows, x, y, w, v, u], dtype=np.float32)
    X, Y, W, V, U = range(40, 45)
    groups = {"a": set(range(20)), "b": set(range(20, 40)) | {X, Y, W, V}}
    prior = {"a": set(range(20)) | {X, Y, U}, "b": set(range(20, 40))}
    model = ThemeModel(stickiness=0.15, andet_threshold=0.2)
    model._stick(groups, prior, {W, V}, list(range(45)), z)
    assert X in groups["a"]  # within 0.15 of its best: back in its previous theme
    assert Y in groups["b"]  # clearly better elsewhere: it moves
    assert U in groups["a"]  # above 0.2 - 0.15 for its previous theme: not andet
    assert W not in groups["a"] | groups["b"]  # was andet, below 0.2 + 0.15: stays andet
    assert V in groups["b"]  # was andet, fits clearly now: joins
    unchanged = {"a": set(range(20)), "b": set(range(20, 40)) | {Y}}
    ThemeModel(stickiness=0.0)._stick(unchanged, prior, {W, V}, list(range(45)), z)
    assert unchanged == {"a": set(range(20)), "b": set(range(20, 40)) | {Y}}


def test_weak_members_go_to_andet_unless_they_were_there_before() -> None:
    rows = [_unit(1, 0, 0)] * 20
    weak = [_unit(0.1, 0, 0.995), _unit(0.12, 0.99, 0)]
    z = np.array([*rows, *weak], dtype=np.float32)
    model = ThemeModel(stickiness=0.15, andet_threshold=0.2)
    groups = {"a": set(range(22))}
    model._drop_weak(groups, {"a": {20}}, list(range(22)), z)
    assert groups["a"] == set(range(21))  # 21 is new and weak: andet; 20 was there before
    fixed = {"a": set(range(22))}
    model._drop_weak(fixed, {}, list(range(20)), z)  # staff-placed answers are not free
    assert fixed["a"] == set(range(22))


def test_previous_themes_without_main_answers_still_work(
    known_rows: list[dict], known_model: ThemeModel
) -> None:
    # Themes saved before `primary_ids` existed: every member counts as the theme's.
    old = _previous(known_model)
    for theme in old:
        theme.primary_ids = []
    again = fit(known_rows, previous=old)
    assert {t.id for t in again.themes_} == {t.id for t in known_model.themes_}
    assert _primary_changes(known_model, again) <= 0.03 * len(known_rows)


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
