"""Stage ``actors.aliases.v1``: every actor mention, known or not, with article offsets."""

from __future__ import annotations

from functools import lru_cache

from ..actors import KindRules, find_mentions
from ..model import Document
from ..pipeline import Context, stage


@lru_cache(maxsize=1)
def _rules() -> KindRules:
    return KindRules.load()


@stage("actors.aliases.v1", needs=("doc",), adds=("actors",), components=("ner", "parser"))
def actors(document: Document, context: Context) -> None:
    """Fill ``document.actors`` from the alias table and unknown ORG/NORP/titled PERSON spans."""
    document.actors = find_mentions(document.doc, context.aliases, _rules(), context.nlp)
