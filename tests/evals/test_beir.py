"""The BEIR benchmark: our rank metrics agree with pytrec_eval, and `python -m evals.beir` runs end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import pytrec_eval

from evals import beir
from evals.ranking import score_run

QRELS = {
    "q1": {"d1": 1, "d3": 2},
    "q2": {"d2": 1},
    "q3": {"d5": 1, "d6": 1, "d7": 3},
    "q4": {"d9": 1},  # never retrieved
}
RUN = {
    "q1": ["d3", "d2", "d1", "d4"],
    "q2": ["d1", "d4", "d5", "d6", "d7", "d8", "d9", "d10", "d11", "d12", "d2"],  # relevant at rank 11
    "q3": ["d7", "d1", "d6", "d2", "d5"],
    "q4": ["d1", "d2"],
}


def reference(run: dict[str, list[str]], qrels: dict[str, dict[str, float]], k: int = 10) -> dict[str, float]:
    """pytrec_eval on the same run; MRR@k by cutting the run at k (trec_eval's recip_rank has no cutoff)."""
    as_scores = {q: {d: float(len(docs) - i) for i, d in enumerate(docs)} for q, docs in run.items()}
    cut = {q: {d: float(k - i) for i, d in enumerate(docs[:k])} for q, docs in run.items()}
    int_qrels = {q: {d: int(v) for d, v in rel.items()} for q, rel in qrels.items()}
    full = pytrec_eval.RelevanceEvaluator(int_qrels, {f"ndcg_cut.{k}", f"recall.{k}"}).evaluate(as_scores)
    rr = pytrec_eval.RelevanceEvaluator(int_qrels, {"recip_rank"}).evaluate(cut)
    queries = sorted(full)
    return {
        f"ndcg_at_{k}": sum(full[q][f"ndcg_cut_{k}"] for q in queries) / len(queries),
        f"recall_at_{k}": sum(full[q][f"recall_{k}"] for q in queries) / len(queries),
        f"mrr_at_{k}": sum(rr[q]["recip_rank"] for q in queries) / len(queries),
    }


def test_rank_metrics_agree_with_pytrec_eval_on_a_hand_made_run() -> None:
    ours = score_run(RUN, QRELS, 10)
    theirs = reference(RUN, QRELS, 10)
    assert ours == pytest.approx(theirs, abs=1e-9)
    assert ours["recall_at_10"] == pytest.approx((1 + 0 + 1 + 0) / 4)  # q2's hit at rank 11 does not count
    assert score_run(RUN, QRELS, 3) == pytest.approx(reference(RUN, QRELS, 3), abs=1e-9)


def test_qrels_reader_skips_the_header(tmp_path: Path) -> None:
    path = tmp_path / "test.tsv"
    path.write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\t0\n", encoding="utf-8")
    assert beir.read_qrels(path) == {"q1": {"d1": 1.0, "d2": 0.0}}


def test_missing_files_are_reported(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    assert beir.main([str(tmp_path)]) == 2
    assert "corpus.jsonl" in capsys.readouterr().err


DOCS = {
    "D-1": ("Vaccination av barn", "Barn under 18 år kan samtycka till vaccination om de är mogna nog, annars beslutar vårdnadshavarna."),
    "D-2": ("Bygglov", "För att bygga ett nytt hus eller en tillbyggnad behöver du oftast söka bygglov hos kommunens byggnadsnämnd."),
    "D-3": ("Försörjningsstöd", "Ekonomiskt bistånd söks hos socialtjänsten när inkomsten inte räcker till hyra och mat."),
    "D-4": ("Skolval", "Vårdnadshavare kan välja skola för sitt barn, men kommunen placerar eleven om platserna inte räcker."),
    "D-5": ("", "Hemtjänst beviljas efter en biståndsbedömning av en handläggare inom äldreomsorgen."),
    "D-6": ("Parkering", "Parkeringstillstånd för rörelsehindrade söks hos kommunen och gäller i hela landet."),
}
QUERIES = {
    "Q1": "Får ett barn själv bestämma om vaccin?",
    "Q2": "Behöver jag bygglov för en tillbyggnad?",
    "Q3": "Var söker man ekonomiskt bistånd?",
    "Q4": "Hur får min mamma hemtjänst?",
    "Q5": "Vem bestämmer vilken skola mitt barn går i?",
}
TINY_QRELS = {"Q1": "D-1", "Q2": "D-2", "Q3": "D-3", "Q4": "D-5", "Q5": "D-4"}


def make_beir(folder: Path) -> Path:
    (folder / "qrels").mkdir(parents=True)
    with (folder / "corpus.jsonl").open("w", encoding="utf-8") as f:
        for doc_id, (title, text) in DOCS.items():
            f.write(json.dumps({"_id": doc_id, "title": title, "text": text}, ensure_ascii=False) + "\n")
    with (folder / "queries.jsonl").open("w", encoding="utf-8") as f:
        for qid, text in QUERIES.items():
            f.write(json.dumps({"_id": qid, "text": text}, ensure_ascii=False) + "\n")
    lines = ["query-id\tcorpus-id\tscore"] + [f"{q}\t{d}\t1" for q, d in TINY_QRELS.items()]
    (folder / "qrels" / "test.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.mark.slow
def test_real_runs_agree_with_pytrec_eval(tmp_path: Path, embedder) -> None:  # noqa: ANN001
    folder = make_beir(tmp_path / "tiny")
    runs, qrels = beir.build_runs(folder, embedder=embedder, progress=False)
    assert set(runs) == {"stem", "part", "fold", "gram", "dense", "lexical", "hybrid"}
    for mode, run in runs.items():
        assert set(run) == set(QUERIES)
        # BEIR ids come back unchanged (our document ids would be 'd-1').
        assert all(set(docs) <= set(DOCS) for docs in run.values()), mode
        assert score_run(run, qrels, 10) == pytest.approx(reference(run, qrels, 10), abs=1e-9), mode
    # Lexical search finds these near-verbatim queries.
    assert score_run(runs["lexical"], qrels, 10)["recall_at_10"] == 1.0


@pytest.mark.slow
def test_cli_prints_a_table_and_json_last(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    folder = make_beir(tmp_path / "tiny")
    assert beir.main([str(folder), "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert "| Läge | nDCG@10 | Recall@10 | MRR@10 |" in lines
    scores = json.loads(lines[-1])
    assert set(scores) == {"stem", "part", "fold", "gram", "dense", "lexical", "hybrid"}
    for mode in scores.values():
        assert set(mode) == {"ndcg_at_10", "recall_at_10", "mrr_at_10"}
        assert all(0.0 <= v <= 1.0 for v in mode.values())
