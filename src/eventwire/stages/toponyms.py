"""Stage ``toponyms.gazetteer.v1``: place names in the article, resolved against the gazetteer."""

from __future__ import annotations

from ..geoparsing import find_toponyms
from ..model import Document
from ..pipeline import Context, stage


@stage(
    "toponyms.gazetteer.v1",
    needs=("doc",),
    adds=("toponyms",),
    components=("ner", "parser", "tagger", "attribute_ruler"),
)
def toponyms(document: Document, context: Context) -> None:
    """Fill ``document.toponyms`` with every recognised place name, resolved where possible."""
    document.toponyms = find_toponyms(document.doc, context.gazetteer)
