"""Which language a text is in, offline and fast, from data in ``data/language/``.

Two signals, both data: the Unicode script of the letters (Arabic, Cyrillic, CJK, ...
name a language or a small family on their own, with distinguishing letters such as
Persian's پ or Ukrainian's ї), and, for Latin-script text, the share of words that are
each language's function words ("the", "of", "le", "der", ...). News prose in any
language is about 40% function words, so a few sentences are enough.

The detector only has to tell English from the rest: it answers ``"en"`` unless another
language clearly dominates, so English text quoting a foreign name or phrase passes.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = ["Guess", "detect_language", "language_name"]

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
#: Fewer letters than this and no guess is made (headlines, ids, numbers).
MIN_LETTERS = 20
#: A non-Latin script must hold at least this share of the letters to decide.
SCRIPT_SHARE = 0.5
#: Margin by which another language's function-word share must beat English's.
MARGIN = 1.5
#: Latin-script text needs this many words, and this many distinct function words of the
#: other language, before it is called non-English (short headlines and runs of Arabic
#: names such as "Al Jabal Al Gharbi" must not tip it).
MIN_WORDS = 8
MIN_DISTINCT = 4


@dataclass(frozen=True)
class Guess:
    """A language guess.

    Attributes:
        code: ISO 639-1 code, or ``"und"`` when the text is too short to tell.
        name: English name of the language.
        score: The evidence: share of letters in the script, or of words that are the
            language's function words.
    """

    code: str
    name: str
    score: float


@lru_cache(maxsize=1)
def _profiles() -> dict[str, Any]:
    base = resources.files("eventwire").joinpath("data", "language", "profiles.json")
    data: dict[str, Any] = json.loads(base.read_text("utf-8"))
    data["wordsets"] = {k: frozenset(v) for k, v in data["words"].items()}
    return data


def language_name(code: str) -> str:
    """English name of an ISO 639-1 code known to the detector (the code itself otherwise)."""
    return str(_profiles()["names"].get(code, code))


_ASCII_LETTERS = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _script_counts(text: str, scripts: dict[str, list[list[int]]]) -> tuple[dict[str, int], int]:
    # ASCII letters are counted in C (deleting them from the ASCII bytes); only the
    # non-ASCII characters, few in English text, are looked at, each distinct one once.
    counts: dict[str, int] = {}
    ascii_bytes = text.encode("ascii", "ignore")
    letters = len(ascii_bytes) - len(ascii_bytes.translate(None, _ASCII_LETTERS))
    for ch, n in Counter(_NON_ASCII.findall(text)).items():
        if not ch.isalpha():
            continue
        letters += n
        code = ord(ch)
        if code < 0x0370:
            continue  # Latin
        for lang, ranges in scripts.items():
            if any(lo <= code <= hi for lo, hi in ranges):
                counts[lang] = counts.get(lang, 0) + n
                break
    return counts, letters


def detect_language(text: str) -> Guess:
    """Guess the language of ``text``.

    Returns:
        The guess; ``code`` is ``"en"`` for English or text mostly in English, ``"und"``
        when there are too few letters to tell.
    """
    prof = _profiles()
    counts, letters = _script_counts(text, prof["scripts"])
    if letters < MIN_LETTERS:
        return Guess("und", "undetermined", 0.0)
    if counts:
        kana, han = counts.get("ja", 0), counts.get("zh", 0)
        if kana and han and kana >= 0.1 * (kana + han):
            counts["ja"] += counts.pop("zh")  # Japanese writes kanji among its kana
        script, n = max(counts.items(), key=lambda kv: kv[1])
        if n / letters >= SCRIPT_SHARE:
            code = script
            for variant, rule in prof["marks"].items():
                if rule["within"] == script and any(c in text for c in rule["letters"]):
                    code = variant
            return Guess(code, language_name(code), round(n / letters, 3))
    words = [w.casefold().replace("’", "'") for w in _WORD.findall(text)]
    if len(words) < MIN_WORDS:
        return Guess("en", language_name("en"), 0.0)
    shares, distinct = {}, {}
    frequency = Counter(words)
    for lang, vocab in prof["wordsets"].items():
        found = vocab.intersection(frequency)
        shares[lang] = sum(frequency[w] for w in found) / len(words)
        distinct[lang] = len(found)
    english = shares.get("en", 0.0)
    best, share = max(shares.items(), key=lambda kv: kv[1])
    if (
        best != "en"
        and share >= 0.12
        and share > MARGIN * english
        and distinct[best] >= MIN_DISTINCT
    ):
        return Guess(best, language_name(best), round(share, 3))
    return Guess("en", language_name("en"), round(english, 3))
