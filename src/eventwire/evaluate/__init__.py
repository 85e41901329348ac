"""Evaluation of eventwire against third-party labelled data (evaluation only)."""

from pathlib import Path


def data_path(relative: str) -> Path:
    """Path of a labelled data set under the configured data folder (``Options.data_dir``:
    ``$EVENTWIRE_DATA`` or ``../shared/data``)."""
    from ..config import resolve_options

    return resolve_options().data_dir / relative
