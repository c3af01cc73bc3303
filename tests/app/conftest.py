"""Shared fixtures of the app tests.

- `small_index`: a small real index of part of the bundled corpus, embedded once per session; `copy_of` gives a
  module its own writable copy.
- `server` and `browser`: one real `streamlit run app.py` on loopback and one headless Chromium for the whole
  session, shared by the browser test modules (accessibility and end to end). The server starts from a copy of
  the small index, so no browser test waits for the bundled corpus to be embedded. Tests that need a fresh
  state get it from their own account (`ACCOUNTS`): conversations are per user, and a test that counts
  documents reads the count before it changes it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.ingestion.index import Index
from assistant.settings import PROJECT_ROOT, Settings
from tests import builders

DOCS = ("nyttorealisering.md", "sju-fragor-for-nyttorealisering.md", "bestallarkompetens-och-upphandling.md",
        "juridik-och-sakerhet.md", "ledningsgruppens-roll.md", "forandringsledning.md")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
# name: (role, password). One account per test that needs a user nobody else has touched.
ACCOUNTS = {
    "strategen": ("strateg", "strategens-losenord"),  # test_e2e_browser
    "chefen": ("chef", "chefens-losenord"),  # test_e2e_browser
    "strateg-a11y": ("strateg", "strateg-a11y-losenord"),  # test_accessibility: the axe run
    "chef-a11y": ("chef", "chef-a11y-losenord"),  # test_accessibility: the axe run at phone width
    "chef-tangent": ("chef", "chef-tangent-losenord"),  # test_accessibility: keyboard only (an empty sidebar)
}


@pytest.fixture(scope="session")
def small_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:  # noqa: ANN001
    data = tmp_path_factory.mktemp("small-index")
    index = Index(Settings(data_dir=data), embedder=embedder)
    report = index.ingest([PROJECT_ROOT / "corpus" / name for name in DOCS])
    assert not report.failed, report.failed
    index.close()
    return data


def copy_of(small_index: Path, target: Path) -> Path:
    """A module's own writable copy (feedback, accounts and conversations land in it)."""
    shutil.copytree(small_index, target / "data")
    return target / "data"


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not become healthy")


def start_app(data: Path, corpus: Path, accounts: dict[str, tuple[str, str]], **env_extra: str):  # noqa: ANN201
    """A real `streamlit run app.py` on a free loopback port with these accounts: (process, url, log file)."""
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data), "ASSISTANT_AUTH_MODE": "accounts",
           "ASSISTANT_CORPUS_DIR": str(corpus), **env_extra}
    for name, (role, password) in accounts.items():
        subprocess.run([sys.executable, "-m", "assistant.app.users", "add", name, "--role", role, "--password-stdin"],
                       input=password + "\n", text=True, env=env, cwd=PROJECT_ROOT, check=True, capture_output=True)
    port = builders.free_port()
    log = (data / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1",
         "--server.port", str(port), "--server.headless", "true"],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    return proc, f"http://127.0.0.1:{port}", log


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, small_index: Path) -> Iterator[str]:
    """The app for every browser test of the session, on a copy of the small index (its corpus: `DOCS`)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium saknas: apt-get install -y chromium chromium-driver (make test gör det)")
    data = copy_of(small_index, tmp_path_factory.mktemp("browser-app"))
    corpus = tmp_path_factory.mktemp("browser-corpus")
    for name in DOCS:
        shutil.copy(PROJECT_ROOT / "corpus" / name, corpus / name)
    proc, url, log = start_app(data, corpus, ACCOUNTS)
    try:
        wait_healthy(url, proc)
        yield url
    finally:
        builders.stop(proc)
        log.close()
        if ARTIFACTS.exists():
            shutil.copy(data / "streamlit.log", ARTIFACTS / "streamlit.log")


@pytest.fixture(scope="session")
def browser():  # noqa: ANN201
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()
