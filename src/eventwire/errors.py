"""The exception tree of eventwire.

Library code raises these; only the edges (CLI, REST API) translate them for users::

    EventwireError
    ├── InputError          a path, file, record or URL that cannot be read as an article
    │   └── FetchError      an HTTP fetch that failed (status, timeout, size cap, redirects)
    ├── ModelNotFoundError  no spaCy English model is installed
    ├── PipelineError       the stage chain is inconsistent (checked before the first document)
    ├── StageError          one stage failed on one document (recorded as a rejection)
    ├── StoreError          the database cannot be opened, migrated or written
    ├── GazetteerError      a gazetteer file is corrupt or in an unknown format
    └── OptionsError        an option or filter value is invalid
"""

from __future__ import annotations


class EventwireError(Exception):
    """Base class of every error eventwire raises on purpose."""


class InputError(EventwireError):
    """An input cannot be read as an article.

    Args:
        source: The path, URL or record locator that failed.
        reason: What was wrong, in one line.
    """

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class FetchError(InputError):
    """An HTTP fetch failed: bad status, timeout, size cap or too many redirects."""


class ModelNotFoundError(EventwireError):
    """No spaCy English model is installed."""


class PipelineError(EventwireError):
    """The stage chain is inconsistent: a stage needs something no earlier stage adds."""


class StageError(EventwireError):
    """A stage failed on one document.

    Args:
        stage: Versioned name of the stage that failed.
        reason: What went wrong, in one line.
    """

    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(f"stage {stage}: {reason}")
        self.stage = stage
        self.reason = reason


class StoreError(EventwireError):
    """The database cannot be opened, migrated or written."""


class GazetteerError(EventwireError):
    """A gazetteer file or index is corrupt or in an unknown format."""


class OptionsError(EventwireError):
    """An option or filter value is invalid."""
