"""Stage ``language.detect.v1``: reject text that is not in English.

The event coder's lexicons, parser and classifier are English; coding a French or Arabic
article would produce nonsense, so such a document fails here with its language named and
ingest records the rejection. Text too short to tell passes.
"""

from __future__ import annotations

from ..errors import StageError
from ..language import detect_language
from ..model import Document
from ..pipeline import Context, stage

NAME = "language.detect.v1"


@stage(NAME, needs=("text",), adds=())
def language(document: Document, context: Context) -> None:
    """Raise :class:`StageError` naming the language when the text is not English."""
    guess = detect_language(document.text)
    if guess.code not in ("en", "und"):
        raise StageError(
            NAME,
            f"text is in {guess.name} ({guess.code}); eventwire codes English only for now",
        )
