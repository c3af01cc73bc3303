"""The encoder: packaged weights are verified, e5 prefixes, and the real model's behaviour."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from assistant.ingestion.embedding import Embedder, file_sha256, packaged_model_dir, verify_packaged_weights
from assistant.errors import ConfigurationError
from assistant.settings import PACKAGED_MODEL


def test_packaged_weights_match_the_published_checksum() -> None:
    verify_packaged_weights(packaged_model_dir())


def test_tampered_weights_are_refused(tmp_path: Path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(packaged_model_dir(), copy)
    weights = copy / "model.safetensors"
    with weights.open("r+b") as fh:
        fh.seek(4096)
        byte = fh.read(1)
        fh.seek(4096)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ConfigurationError, match="kontrollsumma") as err:
        verify_packaged_weights(copy)
    assert file_sha256(weights) in str(err.value) and "installera om" in str(err.value)


def test_missing_weights_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="saknas"):
        verify_packaged_weights(tmp_path)


def test_e5_models_get_query_and_passage_prefixes_without_loading() -> None:
    e5 = Embedder("intfloat/multilingual-e5-small")
    assert (e5._query_prefix, e5._passage_prefix) == ("query: ", "passage: ")
    assert Embedder("intfloat/e5-base-v2")._passage_prefix == "passage: "
    assert e5._model is None  # __init__ is cheap: nothing was loaded


@pytest.mark.parametrize(
    "name",
    [PACKAGED_MODEL, "sentence-transformers/all-MiniLM-L6-v2", "/hf/snapshots/8b3219a92973ce5c8a8e22fadcfa821b5dc75636a"],
)
def test_other_models_get_no_prefixes(name: str) -> None:
    model = Embedder(name)
    assert (model._query_prefix, model._passage_prefix) == ("", "")


def test_batch_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="got 0"):
        Embedder(batch_size=0)


def test_unknown_model_names_the_setting_that_fixes_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="ASSISTANT_EMBEDDING_MODEL"):
        Embedder(str(tmp_path / "finns-inte")).warm_up()


@pytest.mark.slow
def test_real_model_embeds_normalized_vectors(embedder: Embedder) -> None:
    assert embedder.dimension == 384 and embedder.max_tokens == 256
    query = embedder.embed_query("Vem äger nyttan?")
    passages = embedder.embed_passages(["Ledningsgruppen äger nyttan.", "Vädret blir soligt i morgon."])
    assert len(query) == 384 and len(passages) == 2
    assert math.isclose(sum(x * x for x in query), 1.0, rel_tol=1e-4)
    similarity = [sum(a * b for a, b in zip(query, p, strict=True)) for p in passages]
    assert similarity[0] > similarity[1]
    assert embedder.embed_passages([]) == []


@pytest.mark.slow
def test_swedish_costs_more_word_pieces_than_words(embedder: Embedder) -> None:
    text = "Ledningsgruppen ansvarar för verksamhetsutvecklingen och nyttorealiseringen."
    assert embedder.count_tokens(text) > len(text.split()) * 2
