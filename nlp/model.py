"""ThemeModel: fit themes on answers, keep their identity across runs, honour staff curation."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from nlp import cluster as cl
from nlp.features import Bag, FeatureConfig, Featurizer
from nlp.labels import LABEL_SEPARATOR, class_tfidf_terms, make_label, representatives
from nlp.lexicon import QUESTION_IDIOMS
from nlp.text import TextOptions, Unit, analyze

FORMAT_VERSION = 1
_ID_RE = re.compile(r"^t(\d+)$")


@dataclass
class Theme:
    """One theme. `answer_ids` are ordered most central first; `size` == len(answer_ids)."""

    id: str
    label: str = ""
    terms: list[str] = field(default_factory=list)
    answer_ids: list[str] = field(default_factory=list)
    representative_ids: list[str] = field(default_factory=list)
    size: int = 0
    auto_label: str = ""  # the engine's own label (differs from `label` after a rename)
    hidden: bool = False  # staff hid it (kept so its id and answers stay stable)
    curated: bool = False  # some staff decision constrains this theme
    #: The answers whose first (main) theme this is, most central first; the rest of
    #: `answer_ids` hold it as a second or third theme. Empty = not known (themes saved
    #: before this was kept): a re-run then takes every answer in `answer_ids` as a member.
    primary_ids: list[str] = field(default_factory=list)
    #: Mean cosine of the main answers to the theme's centre (0-1; higher = more alike).
    coherence: float = 0.0
    #: A catch-all: coherence well below the run's other themes. Show it as mixed, with
    #: `split_suggestion` (the labels of its two halves), not with a confident label.
    mixed: bool = False
    split_suggestion: list[str] = field(default_factory=list)
    #: The codebook theme's name when the theme comes from a staff codebook.
    codebook: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Theme:
        """Build from a dict; unknown keys are ignored, missing ones take defaults."""
        known = {f.name for f in fields(cls)}
        theme = cls(**{k: v for k, v in data.items() if k in known})
        theme.id = str(theme.id)
        theme.terms = list(theme.terms)
        theme.answer_ids = [str(a) for a in theme.answer_ids]
        theme.representative_ids = [str(a) for a in theme.representative_ids]
        theme.primary_ids = [str(a) for a in theme.primary_ids]
        theme.split_suggestion = [str(a) for a in theme.split_suggestion]
        if not theme.size:
            theme.size = len(theme.answer_ids)
        return theme


@dataclass
class Curation:
    """Staff decisions that a re-run must respect.

    - renamed: theme id -> label staff wrote (kept verbatim).
    - merged: groups of theme ids that staff merged; the first id survives. Clusters that
      reappear mostly made of a merged theme's previous answers are folded back into it.
    - split: new theme id -> answer ids staff split off into that theme (use `fresh_theme_id`).
    - moved: answer id -> theme id staff moved the answer to (its only theme from then on).
    - pinned: theme id -> answer ids staff chose as the theme's quotes (shown in that order;
      the answers are kept in the theme).
    - excluded: answer ids marked "not a theme": always "andet", and left out of clustering.
    - hidden: theme ids staff hid; they keep id and answers, flagged `hidden`.

    Precedence when decisions collide: excluded > moved > split > pinned.
    Every theme id named here survives a re-run (recreated from its previous answers if the
    clustering no longer finds it).
    """

    renamed: dict[str, str] = field(default_factory=dict)
    merged: list[list[str]] = field(default_factory=list)
    split: dict[str, list[str]] = field(default_factory=dict)
    moved: dict[str, str] = field(default_factory=dict)
    pinned: dict[str, list[str]] = field(default_factory=dict)
    excluded: list[str] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)

    def theme_ids(self) -> set[str]:
        """Every theme id the curation refers to."""
        ids = set(self.renamed) | set(self.split) | set(self.moved.values()) | set(self.pinned)
        ids |= set(self.hidden)
        for group in self.merged:
            ids.update(group)
        return ids

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Curation:
        """Inverse of `to_dict` (missing keys -> empty; ids become strings)."""
        return cls(
            renamed={str(k): str(v) for k, v in (data.get("renamed") or {}).items()},
            merged=[[str(t) for t in g] for g in (data.get("merged") or [])],
            split={str(k): [str(a) for a in v] for k, v in (data.get("split") or {}).items()},
            moved={str(k): str(v) for k, v in (data.get("moved") or {}).items()},
            pinned={str(k): [str(a) for a in v] for k, v in (data.get("pinned") or {}).items()},
            excluded=[str(a) for a in (data.get("excluded") or [])],
            hidden=[str(t) for t in (data.get("hidden") or [])],
        )


def fresh_theme_id(taken: Iterable[str]) -> str:
    """A theme id ("t<n>") larger than every "t<n>" id in `taken`."""
    top = 0
    for tid in taken:
        m = _ID_RE.match(tid)
        if m:
            top = max(top, int(m.group(1)))
    return f"t{top + 1}"


def _bag(units: Sequence[Unit]) -> Bag:
    return Bag.of_units(units)


class ThemeModel:
    """Clusters free-text answers into named themes (see the package docstring)."""

    def __init__(
        self,
        n_themes: int | str = "auto",
        seed: int = 0,
        *,
        max_themes: int = 30,
        andet_threshold: float = 0.2,
        secondary_threshold: float = 0.5,
        stickiness: float = 0.15,
        mixed_ratio: float = 0.85,
        min_theme_size: int | None = None,
        n_representatives: int = 4,
        features: FeatureConfig | None = None,
        text_options: TextOptions | None = None,
    ) -> None:
        ok_int = isinstance(n_themes, int) and not isinstance(n_themes, bool) and n_themes >= 1
        if not (n_themes == "auto" or ok_int):
            raise ValueError("n_themes must be 'auto' or a positive integer")
        self.n_themes = n_themes
        self.seed = int(seed)
        self.max_themes = max_themes
        self.andet_threshold = andet_threshold
        self.secondary_threshold = secondary_threshold
        self.stickiness = stickiness
        self.mixed_ratio = mixed_ratio
        self.min_theme_size = min_theme_size
        self.n_representatives = n_representatives
        self.features = features or FeatureConfig()
        self.text_options = text_options or TextOptions()
        self.themes_: list[Theme] = []
        self.assignments_: dict[str, list[str]] = {}
        self.k_: int = 0
        self.k_scores_: dict[int, float] = {}
        #: The k-means clusters of this fit before "andet", small clusters, previous themes
        #: and staff decisions were applied (answer ids, largest cluster first; the state a
        #: re-run starts from).
        self.clusters_: list[list[str]] = []
        self._featurizer = Featurizer(self.features)
        self._centroids = np.zeros((0, 1), dtype=np.float32)
        self._centroid_ids: list[str] = []

    # ------------------------------------------------------------------ fitting

    def fit(
        self,
        texts: Sequence[str],
        ids: Sequence[str] | None = None,
        previous: Sequence[Theme] | None = None,
        curation: Curation | None = None,
        previous_andet: Iterable[str] = (),
        previous_clusters: Sequence[Sequence[str]] = (),
        questions: Sequence[str] = (),
        allow_term: Callable[[str], bool] | None = None,
        vectors: np.ndarray | None = None,
        quotable: Callable[[str], bool] | None = None,
    ) -> ThemeModel:
        """Find themes in `texts`; keep ids of `previous` themes; apply staff `curation`.

        `vectors`: optional semantic vectors of the texts (one row each, e.g. e5 from
        `nlp.semantic.embed`, stored as float16 is fine); without them the engine uses its
        word, character and concept features only.

        `previous_andet`: ids the previous run left in "andet"; with `previous`, answers of
        the previous run change theme (or leave or join "andet") only when the new themes
        fit them clearly better (`stickiness`). `previous_clusters`: the previous run's
        `clusters_`; k-means starts from their means (over the answers still here) instead
        of the previous themes' means, so that the same answers give the same clusters.
        `questions`: what the answers reply to; their words (every answer shares them: "Hvad er
        det gode børneliv her?") are left out of the themes' labels and terms.
        `allow_term`: a theme term (a word or two, as shown) is used only when this says yes;
        the caller's check for personal data in what the labels show.
        `quotable`: an answer's text is a default quote only when this says yes (the caller's
        check for profanity and flagged answers; staff pins are kept as chosen).
        """
        texts = [str(t) for t in texts]
        ids = [str(i) for i in ids] if ids is not None else [str(i) for i in range(len(texts))]
        if len(ids) != len(texts):
            raise ValueError("ids and texts must have the same length")
        if len(set(ids)) != len(ids):
            raise ValueError("ids must be unique")
        cur = Curation.from_dict(curation.to_dict()) if curation else Curation()
        prev = [Theme.from_dict(t.to_dict()) for t in previous or []]
        pos = {a: i for i, a in enumerate(ids)}
        n = len(texts)
        self.k_, self.k_scores_, self.clusters_ = 0, {}, []

        units = analyze(texts, self.text_options)
        bags = [_bag(u) for u in units]
        excluded = {pos[a] for a in cur.excluded if a in pos}
        active = [i for i in range(n) if i not in excluded and not bags[i].empty]

        if vectors is not None:
            vectors = np.asarray(vectors, dtype=np.float32)
            if vectors.shape[0] != n:
                raise ValueError("vectors must have one row per text")
        self._featurizer = Featurizer(self.features).fit(
            [bags[i] for i in active], self.seed, None if vectors is None else vectors[active]
        )
        z = self._featurizer.transform(bags, vectors)

        # Staff-fixed memberships (answer index -> theme id), by precedence.
        clamp: dict[int, str] = {}
        for tid, answer_ids in cur.pinned.items():
            for a in answer_ids:
                if a in pos:
                    clamp[pos[a]] = tid
        for tid, answer_ids in cur.split.items():
            for a in answer_ids:
                if a in pos:
                    clamp[pos[a]] = tid
        for a, tid in cur.moved.items():
            if a in pos:
                clamp[pos[a]] = tid
        for i in excluded:
            clamp.pop(i, None)
        prior = self._prior_groups(prev, cur, pos, set(range(n)) - set(active), clamp)
        free = [i for i in active if i not in clamp]

        # --- clustering of the free answers
        groups: dict[str, set[int]] = {}
        if free:
            zf = z[free]
            seeds = self._seeds(z, free, pos, prior, previous_clusters)
            n_seeds = 0 if seeds is None else len(seeds)
            lo, hi = cl.k_range(len(free), self.max_themes)
            if isinstance(self.n_themes, int):
                k = min(self.n_themes, len(free))
                self.k_scores_ = {}
            else:
                # With semantic vectors, k is read from the word part alone: in e5 space the
                # silhouette prefers a few broad clusters (k 4-6 for 9-10 true themes).
                zk = zf
                if self._featurizer.semantic_mean_ is not None:
                    zk = cl.unit_rows(zf[:, : self._featurizer.lexical_dim])
                k, self.k_scores_ = cl.choose_k(zk, lo, hi, self.seed)
                k = max(k, min(n_seeds, len(free)))
            k = max(k, 1)
            self.k_ = k
            labels, centroids = cl.cluster(zf, k, self.seed, seeds)
            self.clusters_ = [
                [ids[free[row]] for row in np.flatnonzero(labels == j)] for j in range(k)
            ]
            # Largest first: a re-run asked for fewer themes starts from the largest clusters.
            self.clusters_ = sorted((c for c in self.clusters_ if c), key=len, reverse=True)
            raw = self._andet_and_small(free, labels, centroids, z)
            groups = self._name_groups(raw, prior, cur, prev)
            was_andet = {pos[a] for a in previous_andet if a in pos}
            self._stick(groups, prior, was_andet, free, z)
            self._drop_weak(groups, prior, free, z)

        # --- staff constraints
        for tid in cur.theme_ids():
            if tid not in groups and prior.get(tid):
                groups[tid] = set()
                for members in groups.values():
                    members -= prior[tid]
                groups[tid] = set(prior[tid])
        for i, tid in clamp.items():
            for members in groups.values():
                members.discard(i)
            groups.setdefault(tid, set()).add(i)
        groups = {t: g for t, g in groups.items() if g}

        # --- primary per answer, centroids, secondary themes from units
        primary = {i: tid for tid in sorted(groups) for i in groups[tid]}
        self._centroid_ids, self._centroids = _theme_centroids(groups, z)
        fixed = set(clamp) | excluded
        extra = self._secondary(units, z, primary, fixed, active)
        assignments: dict[int, list[str]] = {}
        for i in range(n):
            themes = [primary[i]] if i in primary else []
            for tid in extra.get(i, []):
                if tid not in themes:
                    themes.append(tid)
            if i in excluded:
                themes = []
            assignments[i] = themes[:3]

        asked = question_words(questions)
        self._build_themes(
            texts,
            ids,
            bags,
            z,
            assignments,
            cur,
            {t.id: t for t in prev},
            asked,
            allow_term,
            quotable,
        )
        return self

    @staticmethod
    def _seeds(
        z: np.ndarray,
        free: list[int],
        pos: dict[str, int],
        prior: dict[str, set[int]],
        previous_clusters: Sequence[Sequence[str]],
    ) -> np.ndarray | None:
        """Where k-means starts on a re-run: the previous clusters' means (k-means' own
        centres: unchanged answers give the same clusters again), else the means of the
        previous themes' members (models saved before clusters were kept); None = fresh."""
        in_free = set(free)
        groups = [
            rows
            for cluster in previous_clusters
            if (rows := sorted(pos[a] for a in cluster if pos.get(a, -1) in in_free))
        ]
        if groups:
            return np.stack([z[rows].mean(axis=0) for rows in groups])
        groups = [sorted(g) for g in prior.values() if g]
        return cl.unit_rows(np.stack([z[rows].mean(axis=0) for rows in groups])) if groups else None

    def _prior_groups(
        self,
        prev: Sequence[Theme],
        cur: Curation,
        pos: dict[str, int],
        inactive: set[int],
        clamp: dict[int, str],
    ) -> dict[str, set[int]]:
        """Previous themes as sets of current answer indices, with merges/moves applied.

        Only answers that take part in clustering count (not excluded, not empty), plus the
        answers staff placed by hand.
        """
        prior: dict[str, set[int]] = {}
        for theme in prev:
            answer_ids = theme.primary_ids or theme.answer_ids
            prior[theme.id] = {pos[a] for a in answer_ids if a in pos} - inactive
        for group in cur.merged:
            if not group:
                continue
            survivor = group[0]
            merged: set[int] = set(prior.get(survivor, set()))
            for tid in group[1:]:
                merged |= prior.pop(tid, set())
            prior[survivor] = merged
        for i, tid in clamp.items():
            for members in prior.values():
                members.discard(i)
            prior.setdefault(tid, set()).add(i)
        return prior

    def _andet_and_small(
        self, free: list[int], labels: np.ndarray, centroids: np.ndarray, z: np.ndarray
    ) -> list[set[int]]:
        """Clusters as index sets; weak members -> andet; too-small clusters dissolved."""
        n_free = len(free)
        min_size = self.min_theme_size or max(2, round(0.01 * n_free))
        sims = z[free] @ centroids.T
        k = centroids.shape[0]
        alive = np.ones(k, dtype=bool)
        counts = np.bincount(labels, minlength=k)
        alive &= counts >= min_size
        if not alive.any():
            alive[int(np.argmax(counts))] = True
        masked = np.where(alive[None, :], sims, -np.inf)
        best = np.argmax(masked, axis=1)
        best_sim = masked[np.arange(n_free), best]
        groups: list[set[int]] = [set() for _ in range(k)]
        for row, i in enumerate(free):
            if best_sim[row] >= self.andet_threshold:
                groups[int(best[row])].add(i)
        return [g for g in groups if g]

    def _name_groups(
        self,
        raw: list[set[int]],
        prior: dict[str, set[int]],
        cur: Curation,
        prev: Sequence[Theme],
    ) -> dict[str, set[int]]:
        """Give clusters ids: previous ids by overlap, merged survivors absorb, others fresh."""
        prior_ids = [t for t, g in prior.items() if g]
        match = cl.match_by_overlap(
            [{str(i) for i in g} for g in raw], [{str(i) for i in prior[t]} for t in prior_ids]
        )
        named: dict[str, set[int]] = {}
        unnamed: list[set[int]] = []
        for c, members in enumerate(raw):
            if c in match:
                named[prior_ids[match[c]]] = set(members)
            else:
                unnamed.append(set(members))
        # Merged themes stay merged: fold back clusters made mostly of a survivor's answers.
        survivors = [g[0] for g in cur.merged if g and prior.get(g[0])]
        known = set().union(*prior.values()) if prior else set()
        still: list[set[int]] = []
        for members in unnamed:
            home = None
            old = known & members
            for tid in survivors:
                if old and len(members & prior[tid]) >= 0.5 * len(old):
                    home = tid
                    break
            if home is None:
                still.append(members)
            else:
                named.setdefault(home, set()).update(members)
        taken = {t.id for t in prev} | cur.theme_ids() | set(named)
        for members in sorted(still, key=lambda g: (-len(g), min(g))):
            tid = fresh_theme_id(taken)
            taken.add(tid)
            named[tid] = members
        return named

    def _stick(
        self,
        groups: dict[str, set[int]],
        prior: dict[str, set[int]],
        was_andet: set[int],
        free: list[int],
        z: np.ndarray,
    ) -> None:
        """Answers stay in their previous theme unless another theme fits clearly better.

        A re-run (same answers, or some more) converges to slightly different centroids;
        without this, answers on the border between two themes (often those that name both)
        would change theme although nothing about them changed. An answer goes back to its
        previous theme when that theme still exists and the answer's cosine to it is within
        `stickiness` of its cosine to the theme the clustering chose (or of the "andet"
        threshold, when it fell out of every theme); an answer the previous run left in
        "andet" joins a theme only when it passes that threshold by `stickiness`.
        Staff-placed answers are not free.
        """
        if self.stickiness <= 0 or not (prior or was_andet) or not groups:
            return
        tids, centroids = _theme_centroids(groups, z)
        column = {t: j for j, t in enumerate(tids)}
        now = {i: t for t in tids for i in groups[t]}
        before = {i: t for t, members in prior.items() if t in column for i in members}
        moves: list[tuple[int, str | None, str | None]] = []
        for i in free:
            old = before.get(i)
            new = now.get(i)
            if old == new:
                continue
            sims = z[i] @ centroids.T
            if old is None:
                if (
                    new is not None
                    and i in was_andet
                    and sims[column[new]] < self.andet_threshold + self.stickiness
                ):
                    moves.append((i, new, None))
                continue
            bar = sims[column[new]] if new is not None else self.andet_threshold
            if sims[column[old]] >= bar - self.stickiness:
                moves.append((i, new, old))
        for i, new, old in moves:
            if new is not None:
                groups[new].discard(i)
            if old is not None:
                groups[old].add(i)
        for t in [t for t, members in groups.items() if not members]:
            del groups[t]

    def _drop_weak(
        self,
        groups: dict[str, set[int]],
        prior: dict[str, set[int]],
        free: list[int],
        z: np.ndarray,
    ) -> None:
        """Answers below the "andet" threshold to their own theme's final centroid -> andet.

        Clusters are formed against k-means' centroids; the themes' centroids (what
        `transform` and the representatives use) are the means of their members. A stray
        short answer can pass the first and not the second, sitting in a theme only because
        it pulls the small theme's mean towards itself; it would go to "andet" if it arrived
        later, so it goes there now. An answer the previous run had in the same theme stays
        unless it falls `stickiness` below the threshold (a re-run must not flip it out).
        """
        if not groups:
            return
        tids, centroids = _theme_centroids(groups, z)
        is_free = np.zeros(z.shape[0], dtype=bool)
        is_free[free] = True
        for j, tid in enumerate(tids):
            members = np.array(sorted(groups[tid]))
            bar = np.full(len(members), self.andet_threshold, dtype=np.float32)
            if self.stickiness > 0 and prior.get(tid):
                bar[np.isin(members, list(prior[tid]))] -= self.stickiness
            weak = members[is_free[members] & (z[members] @ centroids[j] < bar)]
            if len(weak) and len(weak) < len(members):
                groups[tid] -= set(weak.tolist())

    def _secondary(
        self,
        units: list[list[Unit]],
        z: np.ndarray,
        primary: dict[int, str],
        fixed: set[int],
        active: list[int],
    ) -> dict[int, list[str]]:
        """Extra themes for multi-clause answers (and a theme for 'andet' answers with a clear
        clause): each clause of >= 2 content words that is close to another theme's centroid."""
        if not len(self._centroid_ids):
            return {}
        owners: list[int] = []
        clause_bags: list[Bag] = []
        for i in active:
            if i in fixed or len(units[i]) < 2:
                continue
            for u in units[i]:
                if len(u.lemmas) >= 2:
                    owners.append(i)
                    clause_bags.append(Bag.of_units([u]))
        if not owners:
            return {}
        zu = self._featurizer.transform(clause_bags)
        centroids = self._centroids
        if self._featurizer.semantic_mean_ is not None:
            # Clauses have no semantic vectors of their own: compare the word part only.
            lex = self._featurizer.lexical_dim
            zu, centroids = cl.unit_rows(zu[:, :lex]), cl.unit_rows(centroids[:, :lex])
        sims = zu @ centroids.T
        best = np.argmax(sims, axis=1)
        out: dict[int, list[str]] = {}
        for row, i in enumerate(owners):
            tid = self._centroid_ids[int(best[row])]
            if sims[row, best[row]] >= self.secondary_threshold and tid != primary.get(i):
                out.setdefault(i, []).append(tid)
        return out

    def _build_themes(
        self,
        texts: list[str],
        ids: list[str],
        bags: list[Bag],
        z: np.ndarray,
        assignments: dict[int, list[str]],
        cur: Curation,
        prev: dict[str, Theme],
        asked: frozenset[str] = frozenset(),
        allow_term: Callable[[str], bool] | None = None,
        quotable: Callable[[str], bool] | None = None,
    ) -> None:
        members: dict[str, list[int]] = {t: [] for t in self._centroid_ids}
        for i, tids in assignments.items():
            for tid in tids:
                members.setdefault(tid, []).append(i)
        order = [t for t in self._centroid_ids if members.get(t)]
        andet = [i for i, t in assignments.items() if not t and not bags[i].empty]
        groups = [[bags[i] for i in members[t]] for t in order] + [[bags[i] for i in andet]]
        term_pairs = class_tfidf_terms(groups, exclude=asked, allow=allow_term)[: len(order)]
        pos = {a: i for i, a in enumerate(ids)}
        curated = cur.theme_ids()
        hidden = set(cur.hidden)
        themes: list[Theme] = []
        for tid, pairs in zip(order, term_pairs, strict=True):
            tterms = [surface for _, surface in pairs]
            c = self._centroids[self._centroid_ids.index(tid)]
            mem = members[tid]
            central = sorted(mem, key=lambda i: (-float(z[i] @ c), i))
            pinned = [a for a in cur.pinned.get(tid, []) if a in pos and pos[a] in mem]
            if pinned:
                reps = pinned
            else:
                candidates = [i for i in central if quotable is None or quotable(texts[i])]
                reps = [
                    ids[i]
                    for i in representatives(
                        candidates,
                        z,
                        c,
                        bags,
                        texts,
                        term_keys=[key for key, _ in pairs],
                        n=self.n_representatives,
                    )
                ]
            tterms = _keep_previous_label(tterms, prev.get(tid))
            auto = make_label(tterms)
            main = [i for i in central if assignments[i][:1] == [tid]] or central
            coherence = float(np.mean(z[main] @ c)) if main else 0.0
            themes.append(
                Theme(
                    id=tid,
                    label=cur.renamed.get(tid, auto),
                    terms=tterms,
                    answer_ids=[ids[i] for i in central],
                    representative_ids=reps,
                    primary_ids=[ids[i] for i in central if assignments[i][:1] == [tid]],
                    size=len(mem),
                    auto_label=auto,
                    hidden=tid in hidden,
                    curated=tid in curated,
                    coherence=round(coherence, 4),
                )
            )
        themes.sort(key=lambda t: (-t.size, _id_key(t.id)))
        self._mark_mixed(themes, texts, z, pos, allow_term)
        self.themes_ = themes
        self.assignments_ = {ids[i]: list(assignments[i]) for i in range(len(ids))}

    def _mark_mixed(
        self,
        themes: list[Theme],
        texts: list[str],
        z: np.ndarray,
        pos: dict[str, int],
        allow_term: Callable[[str], bool] | None,
    ) -> None:
        """Flag catch-alls: coherence below `mixed_ratio` x the median theme's, with at least
        10 main answers; suggest a split into two (2-means on its main answers, labelled)."""
        if len(themes) < 3:
            return
        median = float(np.median([t.coherence for t in themes]))
        for theme in themes:
            main = [pos[a] for a in theme.primary_ids]
            if theme.curated or len(main) < 10 or theme.coherence >= self.mixed_ratio * median:
                continue
            theme.mixed = True
            halves, _ = cl.cluster(z[main], 2, self.seed, None)
            groups = [[texts[main[r]] for r in np.flatnonzero(halves == h)] for h in (0, 1)]
            terms = label_groups(
                groups, questions=(), allow_term=allow_term, text_options=self.text_options
            )
            theme.split_suggestion = [make_label(t) for t in terms if t]

    # ------------------------------------------------------------------ inference

    def transform(self, texts: Sequence[str], vectors: np.ndarray | None = None) -> list[list[str]]:
        """Theme ids for new answers (primary first; [] = "andet"), using the fitted themes.

        `vectors`: the new answers' semantic vectors when the model was fitted with them
        (without, only the word part of the themes is compared)."""
        texts = [str(t) for t in texts]
        if not texts:
            return []
        units = analyze(texts, self.text_options)
        bags = [_bag(u) for u in units]
        if not self._centroid_ids or not self._featurizer.fitted:
            return [[] for _ in texts]
        z = self._featurizer.transform(bags, vectors)
        centroids = self._centroids
        if vectors is None and self._featurizer.semantic_mean_ is not None:
            lex = self._featurizer.lexical_dim
            z, centroids = cl.unit_rows(z[:, :lex]), cl.unit_rows(centroids[:, :lex])
        sims = z @ centroids.T
        primary: dict[int, str] = {}
        for i, row in enumerate(sims):
            j = int(np.argmax(row))
            if not bags[i].empty and row[j] >= self.andet_threshold:
                primary[i] = self._centroid_ids[j]
        active = [i for i in range(len(texts)) if not bags[i].empty]
        extra = self._secondary(units, z, primary, set(), active)
        out = []
        for i in range(len(texts)):
            themes = [primary[i]] if i in primary else []
            themes += [t for t in dict.fromkeys(extra.get(i, [])) if t not in themes]
            out.append(themes[:3])
        return out

    # ------------------------------------------------------------------ serialisation

    def to_bytes(self) -> bytes:
        """Serialise the fitted model (numpy .npz with a JSON header; no pickle)."""
        feat_meta, arrays = self._featurizer.state()
        meta = {
            "format": FORMAT_VERSION,
            "params": {
                "n_themes": self.n_themes,
                "seed": self.seed,
                "max_themes": self.max_themes,
                "andet_threshold": self.andet_threshold,
                "secondary_threshold": self.secondary_threshold,
                "stickiness": self.stickiness,
                "mixed_ratio": self.mixed_ratio,
                "min_theme_size": self.min_theme_size,
                "n_representatives": self.n_representatives,
            },
            "text_options": self.text_options.to_dict(),
            "featurizer": feat_meta,
            "centroid_ids": self._centroid_ids,
            "themes": [t.to_dict() for t in self.themes_],
            "assignments": self.assignments_,
            "k": self.k_,
            "k_scores": {str(k): v for k, v in self.k_scores_.items()},
            "clusters": self.clusters_,
        }
        # Any: numpy types savez_compressed's keywords as arrays or its allow_pickle flag.
        payload: dict[str, Any] = {f"f_{k}": v for k, v in arrays.items()}
        payload["centroids"] = self._centroids.astype(np.float32)
        payload["meta"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
        buf = io.BytesIO()
        np.savez_compressed(buf, **payload)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> ThemeModel:
        """Inverse of `to_bytes`."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
            meta = json.loads(arrays.pop("meta").tobytes().decode("utf-8"))
        except Exception as exc:  # zipfile/pickle/JSON errors all mean "not a model"
            raise ValueError("not a serialised ThemeModel") from exc
        if meta.get("format") != FORMAT_VERSION:
            raise ValueError(f"unsupported model format {meta.get('format')!r}")
        p = meta["params"]
        model = cls(
            n_themes=p["n_themes"],
            seed=p["seed"],
            max_themes=p["max_themes"],
            andet_threshold=p["andet_threshold"],
            secondary_threshold=p["secondary_threshold"],
            stickiness=p.get("stickiness", 0.0),
            mixed_ratio=p.get("mixed_ratio", 0.85),
            min_theme_size=p["min_theme_size"],
            n_representatives=p["n_representatives"],
            features=FeatureConfig.from_dict(meta["featurizer"]["config"]),
            text_options=TextOptions(**meta["text_options"]),
        )
        feat_arrays = {k[2:]: v for k, v in arrays.items() if k.startswith("f_")}
        model._featurizer = Featurizer.from_state(meta["featurizer"], feat_arrays)
        model._centroids = arrays["centroids"]
        model._centroid_ids = list(meta["centroid_ids"])
        model.themes_ = [Theme.from_dict(t) for t in meta["themes"]]
        model.assignments_ = {k: list(v) for k, v in meta["assignments"].items()}
        model.k_ = int(meta["k"])
        model.k_scores_ = {int(k): float(v) for k, v in meta["k_scores"].items()}
        model.clusters_ = [[str(a) for a in c] for c in meta.get("clusters", [])]
        return model

    def to_json(self) -> dict[str, Any]:
        """The CLI's output document: {"themes": [...], "assignments": {...}}."""
        return {
            "themes": [
                {
                    "id": t.id,
                    "label": t.label,
                    "terms": t.terms,
                    "answer_ids": t.answer_ids,
                    "representative_ids": t.representative_ids,
                    "size": t.size,
                    "coherence": t.coherence,
                    "mixed": t.mixed,
                    "split_suggestion": t.split_suggestion,
                }
                for t in self.themes_
            ],
            "assignments": self.assignments_,
        }


_IDIOMS = re.compile(
    r"\b(?:" + "|".join(re.escape(i) for i in QUESTION_IDIOMS) + r")\b", re.IGNORECASE
)


def question_words(questions: Iterable[str]) -> frozenset[str]:
    """The lemmas of the questions' content words, fixed expressions left out ("i vejen for")."""
    texts = [_IDIOMS.sub(" ", str(q)) for q in questions]
    return frozenset(lemma for units in analyze(texts) for u in units for lemma in u.lemmas)


def label_groups(
    groups: Sequence[Sequence[str]],
    others: Sequence[str] = (),
    *,
    questions: Sequence[str] = (),
    previous: Sequence[str] = (),
    allow_term: Callable[[str], bool] | None = None,
    text_options: TextOptions | None = None,
) -> list[list[str]]:
    """Name themes anew from their answers' texts, as `ThemeModel.fit` names them.

    `groups`: the texts of each theme's answers; `others`: the texts of answers in no theme
    ("andet"), compared against as in a fit. `questions` and `allow_term` as in `fit`.
    `previous`: each group's current label; when its terms are all still among the group's
    top terms, they stay first (the label does not change). Returns each group's terms, best
    first (`make_label` turns them into a label). Use it when answers leave the themes, so that
    their words leave the labels without a new fit.
    """
    texts = [str(t) for group in groups for t in group] + [str(t) for t in others]
    bags = [_bag(u) for u in analyze(texts, text_options)]
    bag_groups: list[list[Bag]] = []
    start = 0
    for group in [*groups, others]:
        bag_groups.append(bags[start : start + len(group)])
        start += len(group)
    pairs = class_tfidf_terms(bag_groups, exclude=question_words(questions), allow=allow_term)
    result: list[list[str]] = []
    for i, group_pairs in enumerate(pairs[: len(groups)]):
        label = previous[i] if i < len(previous) else ""
        before = Theme(id="", auto_label=label) if label else None
        result.append(_keep_previous_label([surface for _, surface in group_pairs], before))
    return result


def _keep_previous_label(terms: list[str], previous: Theme | None) -> list[str]:
    """Label hysteresis: if the previous run's label terms are all still among this theme's top
    terms, put them first again so the label does not flicker between runs."""
    if previous is None:
        return terms
    old = previous.auto_label or previous.label
    old_terms = [t for t in old.split(LABEL_SEPARATOR) if t] if old else []
    window = terms[: max(8, len(old_terms))]
    if not old_terms or not all(t in window for t in old_terms):
        return terms
    return old_terms + [t for t in terms if t not in old_terms]


def _theme_centroids(groups: dict[str, set[int]], z: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Theme ids in id order and their centroids: unit-length means of their members' rows."""
    tids = sorted(groups, key=_id_key)
    centroids = np.zeros((len(tids), z.shape[1]), dtype=np.float32)
    for row, tid in enumerate(tids):
        centroids[row] = z[sorted(groups[tid])].mean(axis=0)
    return tids, cl.unit_rows(centroids)


def _id_key(tid: str) -> tuple[int, str]:
    m = _ID_RE.match(tid)
    return (int(m.group(1)) if m else 1 << 30, tid)
