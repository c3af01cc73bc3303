"""The bundled gold sets: complete, valid against the corpus and the question bank, and kept out of the code."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from assistant.settings import PROJECT_ROOT
from evals.gold import load_gold

GOLD = PROJECT_ROOT / "evals" / "gold"
SHARED_SWEFAQ = PROJECT_ROOT.parent / "shared" / "data" / "swefaq" / "swefaq_dev.jsonl"


@pytest.fixture(scope="module")
def cases():  # noqa: ANN201
    return load_gold(GOLD)


def test_every_set_is_split_into_dev_and_test_and_documented(cases) -> None:  # noqa: ANN001
    sets = Counter((c.set, c.split) for c in cases)
    readme = {"initiatives": "originals", "questions": "originals", "adversarial": "originals"}
    names = ("initiatives", "questions", "adversarial", "sections", "swefaq", "negatives", "paraphrases",
             "seed_scenarios", "injections", "dialog")
    for name in names if SHARED_SWEFAQ.exists() else tuple(n for n in names if n != "swefaq"):  # read in place
        assert sets[(name, "dev")] and sets[(name, "test")], name
        assert (GOLD / "sets" / f"{readme.get(name, name)}.md").is_file(), name
    assert (GOLD / "README.md").is_file()
    by_split = Counter(c.split for c in cases)
    assert 0.25 <= by_split["test"] / len(cases) <= 0.45


def test_sets_are_as_large_as_promised(cases) -> None:  # noqa: ANN001
    count = Counter(c.set for c in cases)
    assert count["negatives"] >= 50
    assert count["seed_scenarios"] >= 18
    assert sum(1 for c in cases if c.set == "injections" and c.id.startswith("inj-ok")) >= 30
    assert sum(1 for c in cases if c.set == "injections" and not c.id.startswith("inj-ok")) >= 30
    originals = [c for c in cases if c.set in ("initiatives", "questions", "adversarial")]
    variants = Counter((c.variant_of, c.variant) for c in cases if c.set == "paraphrases")
    for case in originals:
        assert variants[(case.id, "plain")] == 1 and variants[(case.id, "careless")] == 1, case.id


@pytest.mark.skipif(not SHARED_SWEFAQ.exists(), reason="../shared/data/swefaq is not beside this checkout")
def test_swefaq_is_read_in_place_and_split_between_dev_and_test(cases) -> None:  # noqa: ANN001
    swefaq = [c for c in cases if c.set == "swefaq"]
    assert len(swefaq) == 110
    assert Counter(c.split for c in swefaq) == {"dev": 55, "test": 55}
    assert all(c.expect_refusal and "CC BY 4.0" in (c.origin or "") for c in swefaq)
    # Never copied into the project: no SweFAQ question appears in any file we ship.
    questions = [json.loads(line)["question"] for line in SHARED_SWEFAQ.read_text(encoding="utf-8").splitlines()]
    # Generated, git-ignored output (reports of local runs, the index) is not shipped and may quote them.
    generated = {PROJECT_ROOT / ".venv", PROJECT_ROOT / "data", PROJECT_ROOT / "evals" / "out",
                 PROJECT_ROOT / "bench" / "out", PROJECT_ROOT / "test-artifacts"}
    ours = "\n".join(p.read_text(encoding="utf-8", errors="ignore") for p in PROJECT_ROOT.rglob("*")
                     if p.is_file() and p.suffix in (".jsonl", ".py", ".md", ".yaml", ".txt")
                     and not any(g in p.parents for g in generated))
    assert not [q for q in questions if q in ours]


def test_gold_references_exist_in_the_corpus_and_the_bank(cases) -> None:  # noqa: ANN001
    docs = {p.stem for p in (PROJECT_ROOT / "corpus").iterdir() if p.suffix in {".md", ".txt", ".pdf", ".docx"}}
    bank = yaml.safe_load((PROJECT_ROOT / "corpus" / "fragebank.yaml").read_text(encoding="utf-8"))
    dims = {d["id"] for d in bank["dimensions"]}
    question_ids = {q["id"] for q in bank["questions"]}
    for case in cases:
        assert set(case.expected_sources) <= docs, case.id
        assert set(case.expected_dimensions) <= dims, case.id
        assert set(case.expected_questions) <= question_ids, case.id
        if case.kind == "initiative" and case.set == "initiatives":
            assert case.expected_dimensions and case.expected_sources, case.id
        if case.kind == "out_of_scope":
            assert case.expect_refusal is not None, case.id
        if case.set == "seed_scenarios":
            assert case.expected_signs and case.expected_questions, case.id


def test_sections_script_finds_a_question_for_every_section() -> None:
    from evals.sections import main

    assert main([]) == 0


WORD = re.compile(r"[^\W\d_]+")


def _shingles(text: str, n: int = 5) -> set[str]:
    words = [w.casefold() for w in WORD.findall(text)]
    return {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}


def test_no_evaluation_message_appears_in_code_or_bundled_data(cases) -> None:  # noqa: ANN001
    """Five words in a row from any gold message in the code, the benchmarks or the tests outside evals/, or six in
    the hand-written data the assistant learns from (question bank, warning signs, training sets), would mean the
    assistant was built around the examples. Independently written Swedish shares many five-word phrases
    ("vad ska vi tänka på"), which is why the data are held to six."""
    code = [*PROJECT_ROOT.glob("assistant/**/*.py"), *PROJECT_ROOT.glob("*.py"), *PROJECT_ROOT.glob("bench/*.py"),
            *(p for p in PROJECT_ROOT.glob("tests/**/*.py") if "evals" not in p.parts)]
    data = [*PROJECT_ROOT.glob("corpus/*.yaml"), *PROJECT_ROOT.glob("assistant/data/**/*.*")]
    leaks = []
    for paths, n in ((code, 5), (data, 6)):
        gold = set().union(*(_shingles(c.message, n) for c in cases))
        for path in paths:
            if path.is_file():
                found = _shingles(path.read_text(encoding="utf-8", errors="ignore"), n) & gold
                leaks += [f"{path.relative_to(PROJECT_ROOT)}: {s}" for s in sorted(found)[:3]]
    assert not leaks, leaks
