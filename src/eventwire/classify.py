"""Sentence embeddings without torch, and the event-type classifier trained on them.

The embedding model is a static one: all-MiniLM-L6-v2 distilled with model2vec (see
:mod:`eventwire.training`), shipped as a WordPiece vocabulary and an int8 matrix with one
scale per row. A sentence's vector is the mean of its tokens' rows, normalised to unit
length. Tokenisation follows BERT's uncased rules (lower case, accents stripped, split at
white space and punctuation, greedy longest-match word pieces), so inference needs only
numpy.

The classifier is multinomial logistic regression over such vectors side by side: the
sentence's, its trigger context's (the trigger word with its particles, objects and
modifiers, :func:`trigger_context`), so it can tell apart two events of one sentence, and
the trigger's lemma alone (which the averages dilute). It returns a probability per label:
PLOVER types for the type model, ``TYPE:mode`` for the violent-mode model.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .errors import EventwireError

__all__ = [
    "EventTypeClassifier",
    "StaticEmbedder",
    "default_classifier",
    "default_mode_classifier",
    "trigger_context",
    "trigger_lemma",
    "wordpiece",
]

#: Dependents of a trigger that say what kind of event it is ("called off", "launched an
#: attack", "air strike", "refused to talk").
_CONTEXT_DEPS = frozenset(
    {"prt", "dobj", "obj", "xcomp", "compound", "amod", "attr", "dative", "nsubjpass", "neg",
     "acomp", "oprd"}
)  # fmt: skip


def trigger_context(token: Any) -> str:
    """The words around an event trigger (a spaCy token) that type it: the trigger, its
    particles, objects, modifiers and complement, and each preposition with its object."""
    picked = [token]
    for child in token.children:
        if child.dep_ in _CONTEXT_DEPS:
            picked.append(child)
        elif child.dep_ in ("prep", "agent"):
            picked.append(child)
            picked.extend(c for c in child.children if c.dep_ == "pobj")
    return " ".join(t.text for t in sorted(picked, key=lambda t: t.i))


def trigger_lemma(token: Any) -> str:
    """The lemma of an event trigger (a spaCy token), lower case; its text when the
    pipeline has no lemmatizer."""
    return str(token.lemma_ or token.text).casefold()


#: Folder of the packaged model files, inside the package data.
MODEL_DIR = "models"
#: File stem of the event-type classifier (labels: PLOVER types).
TYPES = "event_types"
#: File stem of the violent-mode classifier (labels ``TYPE:mode`` for ASSAULT and PROTEST).
MODES = "event_modes"


def _is_punct(ch: str) -> bool:
    code = ord(ch)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(code: int) -> bool:
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )


def _basic_words(text: str) -> list[str]:
    """BERT's uncased pre-tokenisation: clean, lower-case, strip accents, split."""
    out: list[str] = []
    buf: list[str] = []
    text = unicodedata.normalize("NFD", text.lower())

    def flush() -> None:
        if buf:
            out.append("".join(buf))
            buf.clear()

    for ch in text:
        code = ord(ch)
        if (
            code == 0
            or code == 0xFFFD
            or (unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\t\n\r")
        ):
            continue
        if unicodedata.category(ch) == "Mn":
            continue  # accents, stripped as BERT uncased does
        if ch.isspace():
            flush()
        elif _is_punct(ch) or _is_cjk(code):
            flush()
            out.append(ch)
        else:
            buf.append(ch)
    flush()
    return out


def wordpiece(text: str, vocab: dict[str, int], max_chars: int = 100) -> list[int]:
    """Token ids of ``text`` under BERT-uncased WordPiece with ``vocab``; words that cannot
    be split into known pieces are left out (they carry no vector)."""
    ids: list[int] = []
    for word in _basic_words(text):
        if len(word) > max_chars:
            continue
        start = 0
        pieces: list[int] = []
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in vocab:
                    found = vocab[piece]
                    break
                end -= 1
            if found is None:
                pieces = []
                break
            pieces.append(found)
            start = end
        ids.extend(pieces)
    return ids


@dataclass(frozen=True)
class StaticEmbedder:
    """A static token-embedding model: vocabulary plus one vector per token.

    Args:
        vocab: Token -> row.
        matrix: Float32 rows, one per token.
    """

    vocab: dict[str, int]
    matrix: np.ndarray

    @property
    def dims(self) -> int:
        """Length of a sentence vector."""
        return int(self.matrix.shape[1])

    @classmethod
    def load(cls, folder: Path | Any) -> StaticEmbedder:
        """Read ``vocab.txt`` and ``embeddings.npz`` (int8 ``q`` with per-row ``scale``)."""
        words = folder.joinpath("vocab.txt").read_text("utf-8").rstrip("\n").split("\n")
        vocab = {w: i for i, w in enumerate(words) if w}
        with folder.joinpath("embeddings.npz").open("rb") as fh:
            data = np.load(fh)
            matrix = data["q"].astype(np.float32) * data["scale"].astype(np.float32)[:, None]
        if matrix.shape[0] != len(words):
            raise EventwireError(
                f"embedding model is inconsistent: {matrix.shape[0]} rows for {len(words)} "
                "tokens; rebuild it with scripts/train_classifier.py"
            )
        return cls(vocab, matrix)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length sentence vectors, one row per text (zeros for a text of no tokens)."""
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        for i, text in enumerate(texts):
            ids = wordpiece(text, self.vocab)
            if ids:
                vec = self.matrix[ids].mean(axis=0)
                norm = float(np.linalg.norm(vec))
                out[i] = vec / norm if norm > 0 else vec
        return out


@dataclass(frozen=True)
class EventTypeClassifier:
    """Logistic regression from sentence vectors to PLOVER event types.

    Args:
        embedder: The sentence embedder the weights were trained on.
        labels: Class names, in column order.
        weights: ``(blocks * dims, classes)`` matrix (sentence vector, context vector and,
            with three blocks, the trigger lemma's vector).
        bias: ``(classes,)`` vector.
        info: Provenance and held-out figures written by the trainer.
    """

    embedder: StaticEmbedder
    labels: tuple[str, ...]
    weights: np.ndarray
    bias: np.ndarray
    info: dict[str, Any]

    @classmethod
    def load(
        cls,
        folder: Path | Any | None = None,
        name: str = TYPES,
        embedder: StaticEmbedder | None = None,
    ) -> EventTypeClassifier:
        """Load the classifier ``name`` (``name.json`` and ``name.npz``) from ``folder``
        (the packaged models by default), with ``embedder`` or the folder's ``static/``."""
        base = (
            folder
            if folder is not None
            else resources.files("eventwire").joinpath("data", MODEL_DIR)
        )
        meta = json.loads(base.joinpath(f"{name}.json").read_text("utf-8"))
        with base.joinpath(f"{name}.npz").open("rb") as fh:
            data = np.load(fh)
            weights, bias = data["weights"].astype(np.float32), data["bias"].astype(np.float32)
        if embedder is None:
            embedder = StaticEmbedder.load(base.joinpath("static"))
        rows, cols = weights.shape
        if rows not in (2 * embedder.dims, 3 * embedder.dims) or cols != len(meta["labels"]):
            raise EventwireError(
                "event-type classifier does not fit its embedding model; rebuild both with "
                "scripts/train_classifier.py"
            )
        return cls(embedder, tuple(meta["labels"]), weights, bias, meta)

    @property
    def blocks(self) -> int:
        """Sentence vectors side by side in a feature row: 2 (sentence, trigger context) or
        3 (and the trigger's lemma)."""
        return int(self.weights.shape[0]) // self.embedder.dims

    def features(
        self,
        texts: Sequence[str],
        contexts: Sequence[str],
        lemmas: Sequence[str] | None = None,
    ) -> np.ndarray:
        """Sentence vectors, trigger-context vectors and (for a three-block model) the
        trigger lemmas' vectors, side by side."""
        parts = [self.embedder.encode(texts), self.embedder.encode(contexts)]
        if self.blocks == 3:
            parts.append(self.embedder.encode(lemmas if lemmas is not None else contexts))
        return np.hstack(parts)

    def probabilities(
        self,
        texts: Sequence[str],
        contexts: Sequence[str] | None = None,
        lemmas: Sequence[str] | None = None,
    ) -> np.ndarray:
        """``(len(texts), classes)`` probabilities, rows summing to one.

        Args:
            texts: Sentences.
            contexts: The trigger context of each (:func:`trigger_context`); the sentence
                itself when not given.
            lemmas: The trigger's lemma of each; the context when not given.
        """
        feats = self.features(texts, contexts if contexts is not None else texts, lemmas)
        logits = feats @ self.weights + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)  # type: ignore[no-any-return]

    def predict(
        self,
        texts: Sequence[str],
        contexts: Sequence[str] | None = None,
        lemmas: Sequence[str] | None = None,
    ) -> list[tuple[str, float]]:
        """The most probable label of each text, with its probability."""
        probs = self.probabilities(texts, contexts, lemmas)
        return [(self.labels[int(row.argmax())], float(row.max())) for row in probs]


@lru_cache(maxsize=1)
def default_classifier() -> EventTypeClassifier:
    """The packaged event-type classifier, loaded once per process."""
    return EventTypeClassifier.load()


@lru_cache(maxsize=1)
def default_mode_classifier() -> EventTypeClassifier:
    """The packaged classifier of violent modes (``ASSAULT:clash``, ``PROTEST:riot``...),
    loaded once per process; it shares the type classifier's embedding model."""
    return EventTypeClassifier.load(name=MODES, embedder=default_classifier().embedder)
