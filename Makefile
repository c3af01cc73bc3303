# Two commands: `make run` starts the app, `make test` runs the whole test suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8501

.PHONY: setup index run test soak browser postgres bench bench-ingest bench-answer bench-retrieval bench-engines bench-load bench-load-browser eval eval-screening eval-swefaq corpus-formats corpus-check clean

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

setup: $(STAMP)

# Reads corpus/ into the index; only new or changed files are embedded.
index: setup
	$(PY) ingest.py --quiet --prune

run: index
	$(PY) -m streamlit run app.py --server.address $(HOST) --server.port $(PORT)

# Debian's Chromium for the browser tests (Playwright drives it; it downloads no browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; \
		else echo "Installera Chromium: sudo apt-get install -y chromium chromium-driver"; exit 1; fi; }

# Debian's PostgreSQL for the shared-storage tests (a test starts its own throwaway server; nothing runs as a service).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
		else echo "Installera PostgreSQL: sudo apt-get install -y postgresql"; exit 1; fi; }

test: setup browser postgres
	$(PY) -m pytest

# The long hardening run: at least 500 generated hostile files (tests/hardening), with counts printed.
soak: setup
	RF_SOAK=1 $(PY) -m pytest -p no:cacheprovider -s tests/hardening

bench: bench-ingest bench-answer bench-retrieval bench-engines

bench-ingest: setup
	$(PY) -m bench.ingest

bench-answer: setup
	$(PY) -m bench.answer

# Ours against a naive LangChain + Chroma search: SweFAQ dev quality, latency and memory at 10,000 and 100,000 passages.
bench-retrieval: setup
	$(PY) -m bench.retrieval

# bm25s against tantivy with the same channel terms.
bench-engines: setup
	$(PY) -m bench.engines

# Many chefs at once against one shared Pipeline: 10, 25 and 50 chefs, p50/p95, errors, throughput.
# More: make bench-load LOAD_ARGS="--passages 0,10000 --chefs 10,25,50,100 --think 4"
LOAD_ARGS ?=
bench-load: setup
	$(PY) -m bench.load $(LOAD_ARGS)

# The same with real browsers against one real Streamlit server: 5 Chromium contexts, Enter to answer shown.
BROWSER_ARGS ?=
bench-load-browser: setup browser
	$(PY) -m bench.load_browser $(BROWSER_ARGS)

eval: index
	$(PY) -m evals --gold evals/gold --out evals/out/latest

# The passage screening: cross-validation on its training data, the bundled corpus and SweFAQ as checks.
eval-screening: setup
	$(PY) -m evals.screening --out evals/out/screening

eval-swefaq: setup
	$(PY) -m evals.beir ../shared/data/swefaq/dev-beir
	$(PY) -m evals.fusion ../shared/data/swefaq/dev-beir

corpus-formats: setup
	$(PY) -m assistant.ingestion.corpus_formats

# Lists every number in the corpus, the question bank or the warning signs without a source.
corpus-check: setup
	$(PY) -m assistant.ingestion.corpus_check

clean:
	rm -rf $(VENV) data .pytest_cache test-artifacts
