"""Stage ``events.hybrid.v2``: the lexicon's events, refined by the trained classifiers.

The lexicon coder (:func:`~eventwire.stages.events.code_events`) finds the events; this
stage never adds or drops one. Two classifiers over sentence embeddings
(:mod:`eventwire.classify`) then look at each event's sentence and trigger context:

* the **type** classifier retypes an event when it is confident of another PLOVER type
  (at least ``above``) and gives the lexicon's type little chance (at most ``below``); the
  types in ``keep`` are never changed to or from (the lexicon decides them by arguments:
  who does what to whom);
* the **mode** classifier may move an event away from a sub-event type the lexicon gives
  when it found no evidence for anything else (a one-sided Attack when no armed target was
  named, a Peaceful protest when no intervention was told) to the sub-type the lexicon most
  often misses there (Armed clash, Protest with intervention), and between Shelling and
  Air/drone strike and between Violent demonstration and Mob violence: only along one of its
  ``moves``, when it is confident (at least ``above``) and gives the lexicon's choice at
  most ``below``. It never undoes what the lexicon read from actors or cue words (an armed
  target, police dispersing a crowd).

Each event's confidence is blended with the probability the type classifier gives its
final type (weight ``blend``), so where a sentence yields several events the one both
coders agree on comes first.

The thresholds are fitted by ``scripts/train_classifier.py`` on data the classifiers were
not trained on (out-of-fold predictions on PLOVER's training part and on the sentences
written for this project; never on ACLED) and stored with each model under ``hybrid``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import ontology
from ..classify import (
    EventTypeClassifier,
    default_classifier,
    default_mode_classifier,
    trigger_context,
    trigger_lemma,
)
from ..model import Document, Event
from ..pipeline import Context, stage
from .events import code_events

__all__ = ["event_triggers", "mode_label", "refine_events", "retype_rule"]

#: Lexicon modes the mode classifier knows under a label of its own; other modes of
#: ASSAULT and PROTEST (aerial, grenade, abduct, territory-taken...) come from explicit
#: words and are left alone.
_MODE_LABELS = {
    ("ASSAULT", "clash"): "ASSAULT:clash",
    ("ASSAULT", "firearms"): "ASSAULT:attack",
    ("ASSAULT", "physical"): "ASSAULT:attack",
    ("ASSAULT", "primitive"): "ASSAULT:attack",
    ("ASSAULT", "heavy-weapons"): "ASSAULT:heavy-weapons",
    ("ASSAULT", "aerial"): "ASSAULT:aerial",
    ("ASSAULT", "explosives"): "ASSAULT:explosives",
    ("PROTEST", "demo"): "PROTEST:demo",
    ("PROTEST", "strike"): "PROTEST:demo",
    ("PROTEST", "obstruct"): "PROTEST:demo",
    ("PROTEST", "intervention"): "PROTEST:intervention",
    ("PROTEST", "excessive-force"): "PROTEST:excessive-force",
    ("PROTEST", "riot"): "PROTEST:riot",
    ("PROTEST", "mob"): "PROTEST:mob",
}
#: The lexicon mode a mode label stands for when the classifier picks it.
_LABEL_MODES = {
    "ASSAULT:attack": "firearms",
    "PROTEST:demo": "demo",
}


def mode_label(event_type: str, mode: str | None) -> str | None:
    """The mode classifier's label of a lexicon ``(type, mode)``, or None when it has none."""
    return _MODE_LABELS.get((event_type, mode or ""))


def event_triggers(events: Sequence[Event], doc: Any) -> tuple[list[str], list[str]]:
    """The trigger context (:func:`~eventwire.classify.trigger_context`) and trigger lemma
    of each event, found in ``doc`` by the trigger's offset; the sentence (and the trigger
    text) when the offset finds no token."""
    contexts, lemmas = [], []
    for event in events:
        token = None
        if event.trigger_start is not None and doc is not None:
            span = doc.char_span(
                event.trigger_start, event.trigger_start + 1, alignment_mode="expand"
            )
            token = span[0] if span is not None and len(span) else None
        if token is None:
            contexts.append(event.sentence)
            lemmas.append((event.trigger or event.sentence).casefold())
        else:
            contexts.append(trigger_context(token))
            lemmas.append(trigger_lemma(token))
    return contexts, lemmas


def retype_rule(
    current: str, probs: np.ndarray, labels: Sequence[str], rule: dict[str, Any]
) -> str | None:
    """The label to switch to, or None: the classifier's best label when it is at least
    ``rule["above"]``, ``current`` at most ``rule["below"]``, and (with ``rule["moves"]``)
    ``[current, best]`` is one of the moves; labels in ``rule["keep"]`` never change."""
    if not rule or current not in labels:
        return None
    best = labels[int(probs.argmax())]
    keep = rule.get("keep", ())
    if best == current or best in keep or current in keep:
        return None
    moves = rule.get("moves")
    if moves is not None and [current, best] not in moves:
        return None
    if float(probs.max()) < rule["above"] or float(probs[labels.index(current)]) > rule["below"]:
        return None
    return best


def _retype(event: Event, event_type: str, mode: str | None) -> None:
    event.event_type, event.mode = event_type, mode
    event.acled_event_type, event.acled_sub_event_type = ontology.to_acled(event_type, mode)
    event.cameo_root = ontology.to_cameo(event_type, mode)


def refine_events(
    events: list[Event],
    doc: Any,
    types: EventTypeClassifier | None = None,
    modes: EventTypeClassifier | None = None,
) -> list[Event]:
    """Retype and re-mode the lexicon's ``events`` (in place) by the classifiers' rules
    (module doc) and blend their confidence; returns the same list."""
    if not events:
        return events
    sentences = [e.sentence for e in events]
    contexts, lemmas = event_triggers(events, doc)
    if types is not None:
        rule = types.info.get("hybrid", {})
        probs = types.probabilities(sentences, contexts, lemmas)
        for event, row in zip(events, probs, strict=True):
            new = retype_rule(event.event_type, row, types.labels, rule)
            if new is not None:
                _retype(event, new, None)
            blend = float(rule.get("blend", 0.0))
            if blend and event.event_type in types.labels:
                agree = float(row[types.labels.index(event.event_type)])
                event.confidence = round((1 - blend) * event.confidence + blend * agree, 3)
    if modes is not None:
        rule = modes.info.get("hybrid", {})
        picked = [i for i, e in enumerate(events) if mode_label(e.event_type, e.mode)]
        if picked and rule:
            probs = modes.probabilities(
                [sentences[i] for i in picked],
                [contexts[i] for i in picked],
                [lemmas[i] for i in picked],
            )
            for i, row in zip(picked, probs, strict=True):
                event = events[i]
                current = mode_label(event.event_type, event.mode)
                assert current is not None
                new = retype_rule(current, row, modes.labels, rule)
                if new is not None:
                    etype, _, mode = new.partition(":")
                    _retype(event, etype, _LABEL_MODES.get(new, mode))
    return events


@stage(
    "events.hybrid.v2",
    needs=("doc", "actors"),
    adds=("events",),
    components=("parser", "lemmatizer", "ner"),
)
def events_hybrid(document: Document, context: Context) -> None:
    """Fill ``document.events`` from the lexicon, refined by the trained classifiers."""
    events = code_events(document, context.aliases)
    document.events = refine_events(
        events, document.doc, default_classifier(), default_mode_classifier()
    )
