"""Stage ``parse.spacy.v1``: tokens, sentences, entities and the dependency parse."""

from __future__ import annotations

from ..errors import StageError
from ..model import Document
from ..pipeline import Context, stage


@stage(
    "parse.spacy.v1",
    needs=("text",),
    adds=("doc",),
    components=("tagger", "parser", "attribute_ruler", "lemmatizer", "ner"),
)
def parse(document: Document, context: Context) -> None:
    """Parse the article text with spaCy (skipped when a batch already parsed it)."""
    text = document.text
    if len(text) > context.options.max_text_chars:
        raise StageError(
            "parse.spacy.v1",
            f"text has {len(text):,} characters, more than max_text_chars="
            f"{context.options.max_text_chars:,}",
        )
    if document.doc is None:
        document.doc = context.nlp(text)
