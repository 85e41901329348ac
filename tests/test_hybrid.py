"""events.hybrid.v2: the lexicon's events refined by the type and mode classifiers under
thresholds fitted out of fold (never on ACLED); it keeps every event the lexicon finds."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest

import eventwire.stages.hybrid  # noqa: F401  (registers events.hybrid.v2)
from eventwire.classify import default_classifier, default_mode_classifier
from eventwire.config import Options
from eventwire.evaluate.events import evaluate_plover
from eventwire.model import Article
from eventwire.pipeline import Pipeline
from eventwire.stages.hybrid import mode_label, retype_rule
from eventwire.training import MODE_MOVES, load_mode_sentences

from .conftest import DATA

PLOVER = DATA / "plover-gsr" / "PLOVER_GSR_CAMEO.json"
MODELS = resources.files("eventwire").joinpath("data", "models")
LEXICON = ("parse.spacy.v1", "actors.aliases.v1", "events.lexicon.v1", "dates.relative.v1")
HYBRID = ("parse.spacy.v1", "actors.aliases.v1", "events.hybrid.v2", "dates.relative.v1")


def test_retype_rule_thresholds_keep_and_moves() -> None:
    labels = ("A", "B", "C")
    probs = np.array([0.05, 0.8, 0.15])
    rule = {"above": 0.6, "below": 0.1}
    assert retype_rule("A", probs, labels, rule) == "B"
    assert retype_rule("C", probs, labels, rule) is None  # the lexicon's type has 0.15 > 0.1
    assert retype_rule("B", probs, labels, rule) is None  # already the best
    assert retype_rule("A", probs, labels, dict(rule, above=0.9)) is None  # not sure enough
    assert retype_rule("A", probs, labels, dict(rule, keep=["A"])) is None
    assert retype_rule("A", probs, labels, dict(rule, keep=["B"])) is None
    assert retype_rule("A", probs, labels, dict(rule, moves=[["A", "B"]])) == "B"
    assert retype_rule("A", probs, labels, dict(rule, moves=[["B", "A"]])) is None  # directed
    assert retype_rule("A", probs, labels, {}) is None  # no fitted rule: the lexicon stands
    assert retype_rule("Z", probs, labels, rule) is None  # a type the model does not know


def test_mode_labels_cover_the_moves() -> None:
    assert mode_label("ASSAULT", "firearms") == "ASSAULT:attack"
    assert mode_label("PROTEST", "strike") == "PROTEST:demo"
    assert mode_label("ASSAULT", "grenade") is None  # told by its own word: left alone
    assert mode_label("AGREE", None) is None
    labels = set(default_mode_classifier().labels)
    assert {label for move in MODE_MOVES for label in move} <= labels


def test_fitted_rules_are_stored_and_never_worse_out_of_fold() -> None:
    for name in ("event_types", "event_modes"):
        meta = json.loads(MODELS.joinpath(f"{name}.json").read_text("utf-8"))
        rule = meta["hybrid"]
        fitted = rule["fitted"]
        assert fitted["rule_right"] >= fitted["lexicon_right"] and fitted["n"] >= 300
        assert {"above", "below"} <= set(rule)
    types = default_classifier().info["hybrid"]
    assert set(types["keep"]) == {"ASSAULT", "COERCE", "PROTEST"}


def test_mode_classifier_cross_validated() -> None:
    clf = default_mode_classifier()
    assert clf.embedder is default_classifier().embedder  # one embedding model in memory
    assert clf.weights.shape == (3 * clf.embedder.dims, len(clf.labels))
    assert clf.info["cv_accuracy"] >= 0.75
    rows = load_mode_sentences()
    assert len(rows) >= 300 and len({r["label"] for r in rows}) == len(clf.labels) == 10
    probs = clf.probabilities(["Warplanes bombed the rebel camp overnight."])
    assert clf.labels[int(probs.argmax())] == "ASSAULT:aerial"


@pytest.fixture(scope="module")
def chains(session_options: Options) -> tuple[Pipeline, Pipeline]:
    return Pipeline(session_options, stages=LEXICON), Pipeline(session_options, stages=HYBRID)


def test_hybrid_keeps_every_lexicon_event(chains: tuple[Pipeline, Pipeline]) -> None:
    lexicon, hybrid = chains
    text = (
        "Gunmen shot dead a farmer near Gao on Monday. Police fired tear gas to disperse "
        "students protesting in the capital. The two governments signed a trade agreement.\n\n"
        "Warplanes bombed a rebel camp, and the army shelled the town of Kidal."
    )
    a, b = lexicon.run(Article(text)), hybrid.run(Article(text))
    assert len(a) == len(b) >= 4
    assert [(e.trigger_start, e.actor1, e.actor2, e.fatalities) for e in a] == [
        (e.trigger_start, e.actor1, e.actor2, e.fatalities) for e in b
    ]
    for event in b:  # mappings follow the (possibly new) type and mode
        assert event.acled_event_type and event.acled_sub_event_type and event.cameo_root
    assert hybrid.run(Article("The weather was mild and the markets were calm.")) == []


def test_hybrid_not_below_lexicon_on_held_out_plover(chains: tuple[Pipeline, Pipeline]) -> None:
    lexicon, hybrid = (evaluate_plover(p, PLOVER, split="test") for p in chains)
    assert hybrid["n"] == lexicon["n"] == 133
    assert hybrid["detected"] == lexicon["detected"]
    assert hybrid["type_accuracy"] >= lexicon["type_accuracy"]
    assert hybrid["type_accuracy"] >= 0.75


def test_refine_moves_a_mode_and_remaps(chains: tuple[Pipeline, Pipeline]) -> None:
    """A mode model sure of Armed clash moves an Attack there; ACLED and CAMEO follow."""
    from dataclasses import replace

    from eventwire.stages.hybrid import refine_events

    lexicon, _ = chains
    events = lexicon.run(Article("Gunmen shot dead a farmer near Gao on Monday."))
    assert [e.acled_sub_event_type for e in events] == ["Attack"]
    modes = default_mode_classifier()
    bias = np.full(len(modes.labels), -5.0, dtype=np.float32)
    bias[modes.labels.index("ASSAULT:clash")] = 5.0
    sure = replace(
        modes,
        weights=np.zeros_like(modes.weights),
        bias=bias,
        info={"hybrid": {"above": 0.9, "below": 0.1, "moves": [list(m) for m in MODE_MOVES]}},
    )
    refine_events(events, None, None, sure)
    assert events[0].mode == "clash"
    assert (events[0].acled_event_type, events[0].acled_sub_event_type) == (
        "Battles",
        "Armed clash",
    )
    bias[modes.labels.index("PROTEST:mob")] = 6.0  # not a move from Attack: nothing changes
    events = lexicon.run(Article("Gunmen shot dead a farmer near Gao on Monday."))
    refine_events(events, None, None, replace(sure, bias=bias))
    assert events[0].acled_sub_event_type == "Attack"


def test_seed_article_hybrid_v2(session_options: Options, seed_text: str) -> None:
    """The seed's eight events with their types, actors and modality, as the lexicon codes
    them: the classifiers move nothing the seed's sentences tell plainly."""
    from .test_seed_events import MINE, _check, _events

    stages = tuple("events.hybrid.v2" if s == "events.lexicon.v1" else s for s in MINE)
    hybrid = _events(Pipeline(session_options, stages=stages), seed_text)
    _check(hybrid, seed_text)
    lexicon = _events(Pipeline(session_options, stages=MINE), seed_text)
    assert [(e.event_type, e.trigger_start, e.modality) for e in hybrid] == [
        (e.event_type, e.trigger_start, e.modality) for e in lexicon
    ]
