"""Evaluation of eventwire against third-party labelled data (evaluation only)."""
