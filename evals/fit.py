"""`python -m evals.fit [retrieval|scope|signs|selection|all]`: fit the coaching's decisions on the dev split only.

Writes numbers, never messages, to assistant/data/: retrieval.json (the
channels' weights for the guidance), scope.json (the scope model), signs.json
(warning-sign weights and threshold) and selection.json (question-selection
weights). They are fit in that order, as each later one reads what the earlier
ones decide. Only evals/gold/dev is read (and SweFAQ's dev
half through it); the test split is never opened here. Run it again after the
corpus, the question bank, the warning signs or the training sets change, and
commit the files with the figures it prints.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from assistant.answer import Answer, CoachingQuestion, Turn
from evals import metrics, ranking
from evals.gold import GoldCase, load_gold

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV = PROJECT_ROOT / "evals" / "gold" / "dev"
FOLDS = 5
IN_SCOPE_DECLINED = 0.005  # at most this share of in-scope dev messages may fall below the lower threshold
OUT_OF_SCOPE_COVERED = 0.03  # at most this share of out-of-scope dev messages may reach the upper threshold


def dev_cases() -> list[GoldCase]:
    cases = load_gold(DEV)
    assert all(c.split == "dev" for c in cases), "the fit reads the dev split only"
    return cases


def _history(case: GoldCase) -> list[Turn]:
    return [Turn(m, Answer(text="")) for m in case.history]


def _pipeline():  # noqa: ANN202
    from assistant.pipeline import Pipeline
    from assistant.settings import Settings

    pipeline = Pipeline.from_settings(Settings())
    if pipeline.index.is_empty():
        raise SystemExit("Indexet är tomt. Kör först `make index`.")
    return pipeline


# -- retrieval ---------------------------------------------------------------------
RETRIEVAL_GRID = {"gram": (1.0, 2.0, 3.0), "fold": (0.0, 0.25, 0.5), "stem": (0.0, 0.5, 1.0), "part": (0.0, 0.5, 1.0),
                  "dense": (0.25, 0.5, 1.0, 2.0)}


def fit_retrieval(pipeline) -> str:  # noqa: ANN001
    """Channel weights for questions to the guidance: the expected document among the first five for the dev
    questions that name one (section questions among them), ties broken by the rank of the first right one.
    Initiatives keep the settings' weights: weights fit on the dev initiatives did not hold out of sample."""
    from assistant.coaching.retrieval import RetrievalWeights
    from assistant.ingestion.fusion import fuse

    c, index = pipeline.coaching, pipeline.index
    lexical = index.lexical
    every = dict.fromkeys(RETRIEVAL_GRID, 1.0)
    prepared = []
    for case in dev_cases():
        if case.kind != "question" or not case.expected_sources or case.expect_refusal or case.history:
            continue
        reading = c.reader.read(case.message)
        if reading.tokens:
            prepared.append((set(case.expected_sources), index.rank(lexical.corrected(reading.query), weights=every).raw))

    def per_case(weights: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
        hits, ranks = np.zeros(len(prepared)), np.zeros(len(prepared))
        for i, (expected, raw) in enumerate(prepared):
            rows = np.argsort(-fuse(raw, weights, len(lexical)), kind="stable")[:200]
            documents = ranking.dedupe(metrics.document_of(lexical.ids[row]) for row in rows)
            relevance = dict.fromkeys(expected, 1.0)
            hits[i], ranks[i] = ranking.hit_at_k(documents, relevance, 5), ranking.mrr_at_k(documents, relevance, 10)
        return hits, ranks

    grid = [dict(zip(RETRIEVAL_GRID, combo, strict=True)) for combo in itertools.product(*RETRIEVAL_GRID.values())]
    results = [per_case({k: v for k, v in w.items() if v}) for w in grid]
    hits = np.array([h for h, _ in results])
    value = hits + 1e-3 * np.array([r for _, r in results])  # hit@5 first, then MRR@10
    best = int(np.argmax(value.mean(axis=1)))
    settings_hits, _ = per_case({**pipeline.settings.channel_weights, "dense": pipeline.settings.dense_weight})
    rng = np.random.default_rng(20261128)
    folds = rng.permutation(len(prepared)) % FOLDS
    held_out = [hits[int(np.argmax(value[:, folds != f].mean(axis=1))), folds == f].mean() for f in range(FOLDS)]
    weights = {k: v for k, v in grid[best].items() if v}
    figures = {"date": date.today().isoformat(), "split": "dev", "questions": len(prepared),
               "hit_at_5": float(hits[best].mean()), "cv_hit_at_5": float(np.mean(held_out)),
               "settings_hit_at_5": float(settings_hits.mean())}
    RetrievalWeights(weights, pipeline.settings.embedding_model, figures).save()
    return (f"hämtning för frågor: vikter {weights}; rätt dokument bland de fem första {figures['hit_at_5']:.3f} på "
            f"{len(prepared)} dev-frågor, korsvaliderat {figures['cv_hit_at_5']:.3f}; med inställningarnas vikter "
            f"(anpassade på SweFAQ) {figures['settings_hit_at_5']:.3f}")


# -- scope -----------------------------------------------------------------------
def scope_rows(pipeline, cases: Sequence[GoldCase]) -> tuple[list[dict], list[int], list[GoldCase]]:  # noqa: ANN001
    from assistant.pipeline import _with_context

    c = pipeline.coaching
    rows, labels, used = [], [], []
    for case in cases:
        if case.kind == "empty" or (not case.in_scope and not case.expect_refusal):
            continue
        reading = c.reader.read(case.message, _history(case))
        if not reading.tokens or reading.question_ref is not None:
            continue
        if reading.kind == "followup" and reading.context:
            reading = _with_context(reading)
        rows.append(c.retriever.retrieve(reading).evidence)
        labels.append(1 if case.in_scope else 0)
        used.append(case)
    return rows, labels, used


def _out_of_fold(rows: list[dict], labels: list[int], c: float) -> np.ndarray:
    from assistant.coaching.scope import ScopeModel

    y = np.array(labels)
    rng = np.random.default_rng(20261127)
    folds = np.empty(len(y), dtype=int)
    for label in (0, 1):  # stratified folds
        idx = rng.permutation(np.flatnonzero(y == label))
        folds[idx] = np.arange(len(idx)) % FOLDS
    oof = np.zeros(len(y))
    for f in range(FOLDS):
        train = np.flatnonzero(folds != f)
        model = ScopeModel.train([rows[i] for i in train], [labels[i] for i in train], c)
        for i in np.flatnonzero(folds == f):
            oof[i] = model.probability(rows[i])
    return oof


def _thresholds(oof: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    inside, outside = np.sort(oof[y == 1]), np.sort(oof[y == 0])
    related = float(inside[int(np.floor(IN_SCOPE_DECLINED * len(inside)))]) - 1e-6
    covered = float(outside[min(len(outside) - 1, int(np.ceil((1 - OUT_OF_SCOPE_COVERED) * len(outside))))]) + 1e-6
    if covered < related:  # the two errors cannot both be held: one threshold halfway, no "related" band
        related = covered = (related + covered) / 2
    return related, covered


def fit_scope(pipeline) -> str:  # noqa: ANN001
    from assistant.coaching.scope import ScopeModel

    rows, labels, _ = scope_rows(pipeline, dev_cases())
    y = np.array(labels)
    best = None
    for c in (0.1, 0.3, 1.0, 3.0):  # regularisation chosen by how much of the in-scope dev set it covers
        oof = _out_of_fold(rows, labels, c)
        related, covered = _thresholds(oof, y)
        share = float(np.mean(oof[y == 1] >= covered))
        if best is None or share > best[0]:
            best = (share, c, oof, related, covered)
    _, c, oof, related, covered = best
    inside, outside = oof[y == 1], oof[y == 0]
    final = ScopeModel.train(rows, labels, c)
    figures = {
        "in_scope": int(y.sum()), "out_of_scope": int((1 - y).sum()), "c": c,
        "cv_in_scope_declined": float(np.mean(inside < related)), "cv_in_scope_related": float(np.mean((inside >= related) & (inside < covered))),
        "cv_out_of_scope_covered": float(np.mean(outside >= covered)), "cv_out_of_scope_related": float(np.mean((outside >= related) & (outside < covered))),
    }
    model = ScopeModel(final.features, final.mean, final.scale, final.coef, final.intercept, related, covered,
                       {"date": date.today().isoformat(), "split": "dev", **figures})
    model.save()
    feature, declined = single_score_baseline(rows, y)
    return (f"omfång: {figures['in_scope']} inom / {figures['out_of_scope']} utanför, C = {c}; trösklar {related:.3f} / {covered:.3f}; "
            f"korsvaliderat: inom avböjda {figures['cv_in_scope_declined']:.3f}, inom närliggande "
            f"{figures['cv_in_scope_related']:.3f}, utanför besvarade {figures['cv_out_of_scope_covered']:.3f}, "
            f"utanför närliggande {figures['cv_out_of_scope_related']:.3f}\n"
            f"jämförelse, ett enda mått med en tröskel (bästa måttet, {feature}): inom avböjda {declined:.3f} "
            f"när högst {OUT_OF_SCOPE_COVERED:.0%} utanför besvaras")


def single_score_baseline(rows: list[dict], y: np.ndarray) -> tuple[str, float]:
    """The probe the scope model must beat: one evidence score and one threshold that answers at most
    OUT_OF_SCOPE_COVERED of the out-of-scope dev messages. Returns the score that declines the fewest
    in-scope messages at that threshold, and that share (in-sample, so it flatters the baseline)."""
    best = ("", 1.0)
    for feature, sign in itertools.product(rows[0], (1.0, -1.0)):  # some scores are lower for in-scope messages
        values = sign * np.array([float(r[feature]) for r in rows])
        outside = np.sort(values[y == 0])
        threshold = outside[min(len(outside) - 1, int(np.ceil((1 - OUT_OF_SCOPE_COVERED) * len(outside))))]
        declined = float(np.mean(values[y == 1] <= threshold))
        if declined < best[1]:
            best = (feature if sign > 0 else f"-{feature}", declined)
    return best


# -- signs ------------------------------------------------------------------------
def fit_signs(pipeline) -> str:  # noqa: ANN001
    from assistant.coaching.signs import SignThreshold

    c = pipeline.coaching
    cases = [x for x in dev_cases() if x.kind == "initiative" and not x.expect_refusal]
    pairs = []  # (probability, the sign is expected)
    for case in cases:
        reading = c.reader.read(case.message)
        for sign, p in c.signs.probabilities(reading.query if reading.english else reading.text).items():
            pairs.append((p, sign in case.expected_signs))
    scores = np.array([p for p, _ in pairs])
    truth = np.array([t for _, t in pairs])
    best = (-1.0, 0.5, 0.0, 0.0)
    for threshold in np.unique(np.round(scores, 4)):
        hit = scores >= threshold
        tp, fp, fn = int((hit & truth).sum()), int((hit & ~truth).sum()), int((~hit & truth).sum())
        precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
        f2 = 5 * precision * recall / max(4 * precision + recall, 1e-9)  # recall counts more than precision
        if f2 > best[0]:
            best = (f2, float(threshold), precision, recall)
    _, threshold, precision, recall = best
    SignThreshold(threshold, {"date": date.today().isoformat(), "split": "dev", "precision": precision, "recall": recall,
                              "pairs": len(pairs), "expected": int(truth.sum())}).save()
    return f"varningssignaler: tröskel {threshold:.3f}; dev precision {precision:.2f}, recall {recall:.2f} ({int(truth.sum())} förväntade)"


# -- selection --------------------------------------------------------------------
def training_priors(pipeline) -> dict[str, float]:  # noqa: ANN001
    """The questions' priors from the labelled training initiatives (assistant/data/training/dimensions.jsonl)."""
    from assistant.coaching.classifiers import _read_jsonl
    from assistant.coaching.selection import question_priors
    from assistant.data import path

    c = pipeline.coaching
    initiatives = []
    for row in _read_jsonl(path("training/dimensions.jsonl")):
        reading = c.reader.read(row["text"])
        if reading.tokens:
            initiatives.append((reading.query, reading.tokens, set(row["dimensions"])))
    return question_priors(c.bank, c.selector.situations, c.selector.texts, initiatives)


def fit_selection(pipeline) -> str:  # noqa: ANN001
    from dataclasses import replace

    from assistant.coaching.selection import SelectionWeights

    c = pipeline.coaching
    priors = training_priors(pipeline)
    cases = [x for x in dev_cases() if x.kind == "initiative" and not x.expect_refusal]
    prepared = []
    for case in cases:
        reading = c.reader.read(case.message)
        retrieval = c.retriever.retrieve(reading)
        signs = c.signs.detect(reading.query if reading.english else reading.text)
        prepared.append((case, reading, retrieval, signs, replace(c.selector.evidence(reading, retrieval), prior=priors)))
    grid = []
    for combo in itertools.product((0.5, 1.0), (0.0, 0.25), (0.5, 1.0, 2.0), (1.0, 2.0, 3.0), (0.8, 0.9),
                                   (0.0, 1.0, 2.0, 3.0), (0.0, 0.5, 1.0, 2.0), (0.0, 0.5, 1.0, 2.0)):
        weights = SelectionWeights(*combo, priors=priors)
        if weights.prior + weights.central > weights.situations + weights.text + weights.source + weights.dimension:
            continue  # what the description says must weigh at least as much as what holds for every description
        grid.append((weights, _selection_parts(c.selector, prepared, weights)))
    scores = [_selection_score(parts) for _, parts in grid]
    best = _keep_incumbent(int(np.argmax(scores)), scores, [weights for weights, _ in grid])
    w = grid[best][0]
    held_out = _selection_cross_validated([parts for _, parts in grid], [case for case, *_ in prepared])
    full_from, found = _full_selection_threshold(pipeline)
    replace(w, full_from=full_from,
            fit={"date": date.today().isoformat(), "split": "dev", "cases": len(prepared), "score": scores[best],
                 "cv_score": held_out, "full_from": found}).save()
    return (f"frågeval: situationer {w.situations}, text {w.text}, källa {w.source}, dimension {w.dimension}, "
            f"andra fråga vid {w.second}, förhandsvikt {w.prior}, centralitet {w.central}, inlärd fråga {w.learned}; "
            f"dev-poäng {scores[best]:.3f} (0,7 × medel av dimensioner, nyckelpunkter och förväntad fråga + 0,3 × andel "
            f"omformuleringar med minst fyra av samma frågor); korsvaliderat {held_out:.3f} (vikterna valda på 4/5 av "
            f"beskrivningarna, mätta på 1/5: skillnaden är hur mycket valet smickrar dev-poängen); en fråga får alla "
            f"frågor när sannolikheten för initiativ är minst {full_from:.2f} (bland dev-meddelanden som läses som "
            f"frågor gäller det {found['initiatives']:.0%} av initiativen och {found['questions']:.0%} av frågorna)")


FULL_FROM_GRID = tuple(round(0.05 * k, 2) for k in range(1, 11))  # 0.05 … 0.50


def _full_selection_threshold(pipeline) -> tuple[float, dict]:  # noqa: ANN001
    """The initiative probability from which a message read as a question also gets the full set of questions.
    Among dev messages the kind model reads as questions, the threshold that best tells the described
    initiatives from the questions (largest share of initiatives minus share of questions reaching it; a tie
    goes to the higher threshold, which changes fewer answers)."""
    reader = pipeline.coaching.reader
    p_init, is_initiative = [], []
    for case in dev_cases():
        if case.kind not in ("initiative", "question") or case.expect_refusal or case.history:
            continue
        reading = reader.read(case.message)
        if reading.kind == "question":
            p_init.append(reading.probabilities.get("initiative", 0.0))
            is_initiative.append(case.kind == "initiative")
    return separating_threshold(np.array(p_init), np.array(is_initiative, dtype=bool), FULL_FROM_GRID)


def separating_threshold(p: np.ndarray, y: np.ndarray, grid: Sequence[float]) -> tuple[float, dict]:
    """The grid value t that maximises share(p >= t | y) - share(p >= t | not y), the higher one on a tie; 1.1
    (never) when no t separates at all or one class is missing."""
    best, found, best_j = 1.1, {"initiatives": 0.0, "questions": 0.0}, 0.0
    if not y.any() or y.all():
        return best, found
    for t in sorted(grid, reverse=True):
        tpr, fpr = float((p[y] >= t).mean()), float((p[~y] >= t).mean())
        if tpr - fpr > best_j + 1e-9:
            best, best_j, found = t, tpr - fpr, {"initiatives": round(tpr, 3), "questions": round(fpr, 3)}
    return best, found


INCUMBENT_MARGIN = 0.002  # a refit changes the committed weights only for a gain larger than this on dev


def _keep_incumbent(best: int, scores: list[float], weights: list) -> int:  # noqa: ANN001
    """The committed weighting stays when the best one beats it by no more than INCUMBENT_MARGIN. Two refits of
    the same code have scored the committed weights about 0.001 apart (Chroma's approximate search returns a
    slightly different tail in each process), so a smaller
    gain is noise, and weights that flip on it would only churn the answers."""
    from assistant.coaching.selection import SelectionWeights
    from assistant.errors import ConfigurationError

    try:
        current = SelectionWeights.load()
    except ConfigurationError:  # no committed weights yet: nothing to keep
        return best
    key = _weight_key(current)
    for i, w in enumerate(weights):
        if _weight_key(w) == key and scores[best] - scores[i] <= INCUMBENT_MARGIN:
            return i
    return best


def _weight_key(w) -> tuple:  # noqa: ANN001
    return (w.situations, w.text, w.source, w.dimension, w.second, w.prior, w.central, w.learned)


CONSISTENCY_WEIGHT = 0.3  # how much agreement between a description and its rewordings counts in the fit


@dataclass(frozen=True)
class SelectionParts:
    """One weighting's result per dev description: the sum and number of its quality values (dimensions, key
    points, expected question), and for each (description, rewording) pair whether four of six questions agree."""

    sums: np.ndarray
    counts: np.ndarray
    pairs: tuple[tuple[int, int], ...]
    stable: np.ndarray


def _selection_parts(selector, prepared, weights) -> SelectionParts:  # noqa: ANN001
    sums, counts, picks, index = np.zeros(len(prepared)), np.zeros(len(prepared)), [], {}
    for i, (case, _, _, signs, evidence) in enumerate(prepared):
        picked = selector.pick(selector.ranked(evidence, weights), signs, weights, evidence.learned)
        picks.append({q.id for q in picked})
        index[case.id] = i
        asked = [CoachingQuestion(q.id, q.dimension, q.text, q.why) for q in picked]
        values = [v for v in (metrics.dimension_recall(asked, case.expected_dimensions),
                              metrics.key_point_recall_on(metrics.questions_surface(asked), case.key_points),
                              metrics.expected_question_asked(asked, case.expected_questions)) if v is not None]
        sums[i], counts[i] = sum(values), len(values)
    pairs = tuple((index[case.variant_of], i) for i, (case, *_) in enumerate(prepared) if case.variant_of in index)
    stable = np.array([len(picks[a] & picks[b]) >= min(4, len(picks[a])) for a, b in pairs], dtype=float)
    return SelectionParts(sums, counts, pairs, stable)


def _selection_score(parts: SelectionParts, mask: np.ndarray | None = None) -> float:
    """Quality (dimensions, key points, expected question) and stability (a rewording keeps four of six),
    over the descriptions in `mask` (all by default)."""
    mask = np.ones(len(parts.sums), dtype=bool) if mask is None else mask
    quality = float(parts.sums[mask].sum() / parts.counts[mask].sum()) if parts.counts[mask].sum() else 0.0
    both = np.array([mask[a] and mask[b] for a, b in parts.pairs], dtype=bool)
    stability = float(parts.stable[both].mean()) if both.any() else 0.0
    return (1 - CONSISTENCY_WEIGHT) * quality + CONSISTENCY_WEIGHT * stability


def _selection_cross_validated(grid: list[SelectionParts], cases: list[GoldCase]) -> float:
    """The fit's own optimism: weights chosen on four fifths of the descriptions, scored on the fifth (a
    description and its rewordings always in the same fifth), averaged over the folds."""
    roots = sorted({c.variant_of or c.id for c in cases})
    rng = np.random.default_rng(20261128)
    fold_of = dict(zip(roots, rng.permutation(len(roots)) % FOLDS, strict=True))
    folds = np.array([fold_of[c.variant_of or c.id] for c in cases])
    held_out = []
    for f in range(FOLDS):
        train, test = folds != f, folds == f
        chosen = max(range(len(grid)), key=lambda k: _selection_score(grid[k], train))
        held_out.append(_selection_score(grid[chosen], test))
    return float(np.mean(held_out))


STEPS = {"retrieval": fit_retrieval, "scope": fit_scope, "signs": fit_signs, "selection": fit_selection}


def _ensure_files() -> None:
    """Neutral starting values for files not fit yet, so the pipeline can be built to fit them."""
    from assistant.coaching.scope import FEATURES, MODEL_FILE as SCOPE, ScopeModel
    from assistant.coaching.selection import MODEL_FILE as SELECTION, SelectionWeights
    from assistant.coaching.signs import MODEL_FILE as SIGNS, SignThreshold
    from assistant.data import path

    if not path(SCOPE).exists():
        n = len(FEATURES)
        ScopeModel(FEATURES, (0.0,) * n, (1.0,) * n, (0.0,) * n, 0.0, 0.5, 0.5, {"note": "not fit yet"}).save()
    if not path(SIGNS).exists():
        SignThreshold(fit={"note": "not fit yet"}).save()
    if not path(SELECTION).exists():
        SelectionWeights(fit={"note": "not fit yet"}).save()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.fit", description="Anpassa coachningens beslut på dev-delen.")
    parser.add_argument("what", nargs="?", default="all", choices=[*STEPS, "all"])
    args = parser.parse_args(argv)
    _ensure_files()
    pipeline = _pipeline()
    pipeline.warm_up()
    for name in STEPS if args.what == "all" else [args.what]:
        print(STEPS[name](pipeline))
        pipeline._coaching = None  # rebuild with the file just written
    return 0


if __name__ == "__main__":
    sys.exit(main())
