"""Utvärdering for a strateg: a run in the background with progress and a timeout, one at a time, and a report
in plain Swedish without ids, file paths or code names."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from assistant.app import evalrun
from assistant.ingestion.index import Index
from assistant.settings import PROJECT_ROOT, Settings


def _wait(job: evalrun.Job) -> None:
    """Until the job's thread has ended (no time limit asserted: the job's own timeout ends it)."""
    import threading

    for thread in threading.enumerate():
        if thread.name == "utvardering":
            thread.join()


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_a_run_past_its_timeout_is_stopped_and_says_so_in_swedish(make_settings, tmp_path: Path) -> None:  # noqa: ANN001
    settings = make_settings()
    job = evalrun.start(settings, tmp_path, timeout=0.5, command=_python("import time; time.sleep(120)"))
    _wait(job)
    assert job.finished and job.timed_out and not job.result.ok
    assert "avbröts efter" in job.failure and "ASSISTANT_EVAL_TIMEOUT_MINUTES" in job.failure


def test_a_second_start_while_running_returns_the_running_job(make_settings, tmp_path: Path) -> None:  # noqa: ANN001
    settings = make_settings()
    first = evalrun.start(settings, tmp_path, timeout=600, command=_python("import time; time.sleep(120)"))
    second = evalrun.start(settings, tmp_path, timeout=600, command=_python("print('en andra körning')"))
    assert second is first and evalrun.current() is first
    first.cancel()
    _wait(first)
    assert first.cancelled and not first.result.ok and first.failure == "Utvärderingen avbröts."


def test_progress_is_read_from_the_evaluations_output(make_settings, tmp_path: Path) -> None:  # noqa: ANN001
    code = ("import sys\nfor i in range(5):\n    sys.stderr.write(f'\\rUtvärderar:  {i * 25}%|###| {i}/4 [00:01<00:02]')\n"
            "sys.stderr.write('\\n'); print('4 fall utvärderade')")
    job = evalrun.start(make_settings(), tmp_path, timeout=600, command=_python(code))
    _wait(job)
    assert (job.done, job.total, job.fraction) == (4, 4, 1.0)
    assert job.result.ok and "4 fall utvärderade" in job.result.log and "Utvärderar" not in job.result.log
    assert job.progress_text.startswith("4 av 4 fall utvärderade")


def test_report_text_for_a_strateg_has_no_ids_paths_or_code_names() -> None:
    details = ("## Detaljer\n\nGuldmängd: `/srv/app/evals/gold/dev`, 12 fall, alla genom samma `Pipeline.ask` som appen "
               "använder. Medelvärden.\n\n- `init-007` (Initiativ, 0,40): ”Ett nytt system” – saknar frågor om "
               "mal-och-nytta, agarskap-och-ansvar.\n| Placering av första rätta dokument (MRR@10) | 0,8 |\n")
    text = evalrun.for_strateg(details)
    for developer_word in ("Pipeline", "/srv/app", "init-007", "`", "mal-och-nytta", "agarskap-och-ansvar", "MRR@10"):
        assert developer_word not in text, developer_word
    assert "12 fall, alla besvarade på samma sätt som i appen." in text
    assert "- (Initiativ, 0,40)" in text


def test_only_plots_that_are_real_images_are_shown(tmp_path: Path) -> None:
    out = tmp_path / "20261127-140501-dev"
    out.mkdir()
    (out / "matt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    (out / "trasig.png").write_bytes(b"")
    (out / "plots.txt").write_text("matt.png\tAlla mått i dev-delen\ntrasig.png\tTrasig\nsaknas.png\tSaknas\n",
                                   encoding="utf-8")
    run = evalrun.EvalRun(out, True, "")
    assert run.plots == [(out / "matt.png", "Alla mått i utvecklingsdelen")]
    assert run.label == "27 november 2026 kl. 14.05, utvecklingsdelen"


DOCS = ("nyttorealisering.md", "ledningsgruppens-roll.md")


@pytest.mark.slow
def test_the_page_runs_a_real_evaluation_in_the_background_and_shows_a_plain_report(
        embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    from streamlit.testing.v1 import AppTest

    data = tmp_path / "data"
    index = Index(Settings(data_dir=data), embedder=embedder)
    assert not index.ingest([PROJECT_ROOT / "corpus" / name for name in DOCS]).failed
    index.close()
    gold = tmp_path / "facit"
    (gold / "dev").mkdir(parents=True)
    cases = [{"id": "egen-1", "kind": "question", "message": "Vem i ledningsgruppen äger nyttan?",
              "expected_sources": ["nyttorealisering"]},
             {"id": "egen-2", "kind": "out_of_scope", "message": "Vilken glass är godast i juli?",
              "expect_refusal": True}]
    (gold / "dev" / "egna.jsonl").write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in cases) + "\n",
                                            encoding="utf-8")
    monkeypatch.setattr(evalrun, "GOLD_DIR", gold)
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(data))
    monkeypatch.setenv("ASSISTANT_AUTH_MODE", "none")
    at = AppTest.from_function(_evaluation_page, default_timeout=120).run()
    assert not at.exception
    assert any(i.value == "Ingen utvärdering har körts ännu." for i in at.info)
    next(b for b in at.button if b.label == "Kör utvärderingen").click().run()
    assert not at.exception
    job = evalrun.current()
    assert job is not None
    _wait(job)
    assert job.result.ok, job.result.log
    at.run()
    assert not at.exception
    shown = "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption])
    assert "Sammanfattning" in shown and "Körd " in shown
    for developer_word in ("Pipeline.ask", str(gold), "egen-1", "retrieval.", "coverage."):
        assert developer_word not in shown, developer_word
    assert len(at.get("image")) >= 1  # the plots, only those that exist


def _evaluation_page() -> None:
    import streamlit as st

    from assistant.app.auth import User
    from assistant.app.ui import evaluation

    st.session_state["user"] = User("strategen", "strateg", "none")
    evaluation.page()
