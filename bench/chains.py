"""The stage chain the scale and profile benchmarks run.

The default chain when every stage of it is registered; otherwise (while stages are still
being written) spaCy parsing, the actor stage when present, a simple stand-in event stage
and ``finalize.v1``, so the measurements still cover model loading, parsing, the runner and
the store. The benchmarks print which chain they ran.
"""

from __future__ import annotations

from eventwire.config import Options
from eventwire.errors import PipelineError
from eventwire.model import Document, Event
from eventwire.pipeline import DEFAULT_STAGES, Context, Pipeline, stage

_TRIGGERS = ("attack", "killed", "shelling", "met ", "protest", "agreement", "offensive")


@stage("bench.triggers.v1", needs=("doc",), adds=("events",))
def trigger_events(document: Document, context: Context) -> None:
    """Stand-in event stage: one event per sentence holding a trigger word."""
    for sent in document.doc.sents:
        lowered = sent.text.lower()
        for trigger in _TRIGGERS:
            at = lowered.find(trigger)
            if at >= 0:
                document.events.append(Event(
                    "ASSAULT", sent.text, sent.start_char, sent.end_char, trigger=trigger,
                    trigger_start=sent.start_char + at, confidence=0.5,
                ))  # fmt: skip
                break


def bench_chain(options: Options) -> tuple[str, ...]:
    """The default chain if it builds, else the stand-in chain."""
    try:
        Pipeline(options)
        return DEFAULT_STAGES
    except PipelineError:
        pass
    chain: tuple[str, ...] = ("parse.spacy.v1",)
    try:
        Pipeline(options, stages=("parse.spacy.v1", "actors.aliases.v1"))
        chain += ("actors.aliases.v1",)
    except PipelineError:
        pass
    return (*chain, "bench.triggers.v1", "finalize.v1")
