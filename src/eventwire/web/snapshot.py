"""Serving copies of a store, so that the server never keeps writers out.

DuckDB lets one process write a database file or any number of processes read it, never both
at once. A server that kept the store open, even read-only, would lock ``eventwire ingest`` and
``eventwire watch`` out for as long as it runs. So the server answers from a *snapshot*: a
private copy of the store, made while the store is opened read-only just long enough to copy
its bytes (a tenth of a second for a store of 200,000 events). That plain copy answers at once;
meanwhile a background thread builds the serving copy of the same content, swapped in when
ready:

* events and clusters sorted newest first, in small row groups, so a date range or a page of
  the newest events reads a few row groups instead of the whole table;
* each row's default record precomputed as JSON text, so a page is not assembled column by
  column;
* indexes on the ids the routes look up (event, article, cluster).

Before each request the server compares the store file's identity, size and modification
time (and its write-ahead log's) with the snapshot's: one ``stat`` each. When they differ, the
store is copied again before the request is answered, so every answer after a write includes
it; :attr:`Snapshot.version` names the content a snapshot holds, and anything computed from it
(remembered answers, statistics) is keyed by it and never outlives it. While a writer holds the
store (an ingest is running), the last snapshot keeps being served and the copy is retried
at the writer's next commit, or once a second.

Several server processes share one snapshot directory: files are named by version and made
once, under a file lock, by whichever process needs them first.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from ..errors import StoreError

#: Rows per row group of the snapshot tables (DuckDB's default is 122,880): smaller groups let
#: min/max pruning skip more of a date-sorted table.
ROW_GROUP_SIZE = 4_096
#: Seconds between attempts to copy a store that a writer holds and has not changed since.
RETRY_SECONDS = 1.0
#: Sort order of the snapshot tables (the default order of the API's pages).
_ORDER = {
    "events": "event_date DESC NULLS LAST, event_id DESC",
    "clusters": "event_date DESC NULLS LAST, cluster_id DESC",
}
#: Column of the snapshot tables holding each row's default record as JSON text.
JSON_COLUMN = "__json"
#: Tables stored in the API's default order (newest first, ties by id descending).
SORTED_BY_DATE = frozenset(_ORDER)
_INDEXES = (
    ("events", "event_id"), ("events", "article_id"), ("articles", "article_id"),
    ("clusters", "cluster_id"),
)  # fmt: skip

#: (inode, size, mtime_ns) of the store file and of its write-ahead log (None when absent).
Signature = tuple[tuple[int, int, int] | None, tuple[int, int, int] | None]


class StoreBusy(StoreError):
    """The store is being written by another process; it cannot be copied now."""


def wal_path(path: Path) -> Path:
    """DuckDB's write-ahead log of a database file."""
    return path.with_name(path.name + ".wal")


def signature(path: Path) -> Signature:
    """What identifies the store's current content, from two ``stat`` calls."""
    parts: list[tuple[int, int, int] | None] = []
    for p in (path, wal_path(path)):
        try:
            st = os.stat(p)
        except FileNotFoundError:
            parts.append(None)
        else:
            parts.append((st.st_ino, st.st_size, st.st_mtime_ns))
    return parts[0], parts[1]


def _version(sig: Signature) -> str:
    return hashlib.sha256(repr(sig).encode()).hexdigest()[:16]


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


#: Prefix of the private snapshot directories servers make in the temporary directory.
DIRECTORY_PREFIX = "eventwire-serve-"
#: File in such a directory naming the process that made it.
_OWNER = "owner.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def sweep_abandoned(parent: Path | None = None) -> list[Path]:
    """Remove snapshot directories left by servers that were killed (their owner is gone).

    A server removes its directory when it stops; one killed with SIGKILL cannot, and its
    copies (several times the store's size) would stay in the temporary directory for good.
    Directories without an owner file, or whose owner still runs, are left alone.
    """
    removed = []
    for directory in Path(parent or tempfile.gettempdir()).glob(DIRECTORY_PREFIX + "*"):
        try:
            pid = int((directory / _OWNER).read_text().strip())
        except (OSError, ValueError):
            continue
        if pid != os.getpid() and not _alive(pid):
            shutil.rmtree(directory, ignore_errors=True)
            removed.append(directory)
    return removed


def private_directory(parent: Path | None = None) -> Path:
    """A new snapshot directory owned by this process, after sweeping abandoned ones."""
    sweep_abandoned(parent)
    directory = Path(tempfile.mkdtemp(prefix=DIRECTORY_PREFIX, dir=parent))
    (directory / _OWNER).write_text(f"{os.getpid()}\n")
    return directory


@dataclass
class Snapshot:
    """One immutable serving copy of the store, open read-only.

    Attributes:
        version: Names the data: equal versions hold equal data (across server processes).
        signature: The store's :func:`signature` when it was copied.
        path: The snapshot file.
        conn: Read-only connection to it (take a ``cursor()`` per thread).
        columns: Column names of each table.
        counts: Rows of each table.
        optimized: The serving copy (sorted, indexed, rows as JSON), not a plain copy.
        memo: Values computed from this content (statistics).
    """

    version: str
    signature: Signature
    path: Path
    conn: duckdb.DuckDBPyConnection
    columns: dict[str, tuple[str, ...]]
    counts: dict[str, int]
    optimized: bool = False
    memo: dict[Any, Any] = field(default_factory=dict)

    def close(self) -> None:
        """Close the connection (queries running on its cursors finish first)."""
        with contextlib.suppress(duckdb.Error):
            self.conn.close()


@contextlib.contextmanager
def _exclusive(directory: Path) -> Iterator[None]:
    """One process at a time builds snapshots in ``directory``."""
    try:
        import fcntl
    except ImportError:  # no fcntl (Windows): one server process per directory
        yield
        return
    with (directory / ".lock").open("a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _open_source(source: Path) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(source), read_only=True)
    except duckdb.Error as exc:
        message = _first_line(exc)
        if "lock" in message.lower() or "different configuration" in message:
            # Another process writes it, or this one does (a library user serving in-process).
            raise StoreBusy(
                f"database {source} is being written by another process ({message}); "
                "serve it when the ingest has finished"
            ) from exc
        raise StoreError(f"cannot open database {source}: {message}") from exc


def _copy_source(source: Path, raw: Path) -> Signature:
    """Copy the store's bytes while a read-only connection keeps writers out."""
    conn = _open_source(source)
    try:
        tables = {r[0] for r in conn.execute("SHOW TABLES").fetchall()}
        if not {"events", "articles"} <= tables:
            raise StoreError(
                f"{source} is not an eventwire store (it has no events and articles tables)"
            )
        sig = signature(source)
        shutil.copyfile(source, raw)
        if sig[1] is not None:
            shutil.copyfile(wal_path(source), wal_path(raw))
        return sig
    except OSError as exc:
        raise StoreError(f"cannot copy database {source} for serving: {exc}") from exc
    finally:
        conn.close()


def _json_value(name: str, kind: str | None) -> str:
    """SQL for one member of a row's JSON record, written as the API writes it from Python."""
    column = _quote(name)
    if kind is None:
        return "NULL"
    if kind.startswith("TIMESTAMP"):
        # ISO 8601 in UTC with "T" and "+00:00", microseconds only when there are some.
        return (
            f"strftime({column}, '%Y-%m-%dT%H:%M:%S') || CASE WHEN "
            f"((epoch_us({column}) % 1000000) + 1000000) % 1000000 <> 0 "
            f"THEN strftime({column}, '.%f') ELSE '' END || '+00:00'"
        )
    if kind in ("DOUBLE", "FLOAT", "REAL"):
        return f"CASE WHEN isfinite({column}) THEN {column} END"
    return column


def _json_sql(table: str, kinds: dict[str, str]) -> str | None:
    """``to_json(...)`` of a row's default record (the keys of :mod:`eventwire.model`)."""
    from ..model import CLUSTER_KEYS, EVENT_KEYS

    keys = {"events": EVENT_KEYS, "clusters": CLUSTER_KEYS}.get(table)
    if keys is None:
        return None
    members = []
    for key in keys:
        if table == "clusters" and key == "source" and "sources" in kinds:
            value = "nullif(array_to_string(sources, ', '), '')"
        elif table == "clusters" and key in ("article_id", "start", "end"):
            value = "NULL"  # a merged event spans articles
        else:
            value = _json_value(key, kinds.get(key))
        members.append(f'"{key}" := {value}')
    return f"CAST(to_json(struct_pack({', '.join(members)})) AS VARCHAR)"


def _build(raw: Path, target: Path) -> None:
    """Write the serving copy of ``raw`` (sorted, small row groups, indexed, each row's
    default record precomputed as JSON) to ``target``."""
    building = target.with_name(f"building-{os.getpid()}-{target.name}")
    for stale in (building, wal_path(building)):
        stale.unlink(missing_ok=True)
    conn = duckdb.connect()
    try:
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute(f"ATTACH {_literal(raw)} AS src (READ_ONLY)")
        conn.execute(f"ATTACH {_literal(building)} AS snap (ROW_GROUP_SIZE {ROW_GROUP_SIZE})")
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'src' "
            "AND schema_name = 'main'"
        ).fetchall()]  # fmt: skip
        for table in tables:
            order = f" ORDER BY {_ORDER[table]}" if table in _ORDER else ""
            quoted = _quote(table)
            kinds = {r[0]: str(r[1]) for r in conn.execute(f"DESCRIBE src.{quoted}").fetchall()}
            as_json = _json_sql(table, kinds)
            extra = f", {as_json} AS {JSON_COLUMN}" if as_json else ""
            conn.execute(f"CREATE TABLE snap.{quoted} AS SELECT *{extra} FROM src.{quoted}{order}")
        for table, column in _INDEXES:
            if table in tables:
                conn.execute(f'CREATE INDEX "{table}_{column}_idx" ON snap.{table} ("{column}")')
        conn.execute("DETACH src")
        conn.execute("DETACH snap")
    except duckdb.Error as exc:
        raise StoreError(f"cannot prepare {raw} for serving: {_first_line(exc)}") from exc
    finally:
        conn.close()
    os.replace(building, target)


def _open_snapshot(path: Path, sig: Signature, optimized: bool) -> Snapshot:
    # One thread per query: requests run side by side, and waking helper threads for queries
    # of a millisecond costs more than it gains (4x slower on a busy 2-core machine).
    conn = duckdb.connect(str(path), read_only=True, config={"threads": 1})
    conn.execute("SET TimeZone = 'UTC'")
    columns: dict[str, tuple[str, ...]] = {}
    counts: dict[str, int] = {}
    for (table,) in conn.execute("SHOW TABLES").fetchall():
        quoted = _quote(table)
        columns[table] = tuple(r[0] for r in conn.execute(f"DESCRIBE {quoted}").fetchall())
        counts[table] = int(conn.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0])  # type: ignore[index]
    return Snapshot(_version(sig), sig, path, conn, columns, counts, optimized)


def _existing(directory: Path, sig: Signature) -> Snapshot | None:
    version = _version(sig)
    for name, optimized in ((f"snap-{version}.duckdb", True), (f"raw-{version}.duckdb", False)):
        if (directory / name).exists():
            return _open_snapshot(directory / name, sig, optimized)
    return None


def take(source: Path, directory: Path) -> Snapshot:
    """A snapshot of the store's content now: the serving copy if a process of this server has
    built it already, else a plain copy of the store's bytes (fast: :func:`optimize` then
    builds the serving copy from it while the plain copy answers).

    Raises:
        StoreBusy: A writer holds the store.
        StoreError: The store cannot be read, is not an eventwire store, or cannot be copied.
    """
    with _exclusive(directory):
        found = _existing(directory, signature(source))
        if found is not None:
            return found
        copying = directory / f"copying-{os.getpid()}.duckdb"
        try:
            sig = _copy_source(source, copying)  # the signature while writers were held off
            found = _existing(directory, sig)
            if found is not None:
                return found
            raw = directory / f"raw-{_version(sig)}.duckdb"
            if sig[1] is not None:
                os.replace(wal_path(copying), wal_path(raw))
            os.replace(copying, raw)
        finally:
            for p in (copying, wal_path(copying)):
                p.unlink(missing_ok=True)
        return _open_snapshot(raw, sig, optimized=False)


def optimize(snapshot: Snapshot, directory: Path) -> Snapshot:
    """The serving copy of a plain copy (sorted, small row groups, indexed, rows as JSON),
    built unless ``directory`` has it; older snapshot files are removed.

    Raises:
        StoreError: The copy cannot be read or the serving copy written.
    """
    if snapshot.optimized:
        return snapshot
    with _exclusive(directory):
        target = directory / f"snap-{snapshot.version}.duckdb"
        if not target.exists():
            _build(snapshot.path, target)
        fresh = _open_snapshot(target, snapshot.signature, optimized=True)
        made = snapshot.path.stat().st_mtime_ns if snapshot.path.exists() else 0
        for old in directory.glob("*.duckdb*"):
            if old == target or not old.name.startswith(("snap-", "raw-")):
                continue
            # This version's plain copy and older data (newer files belong to a newer store
            # content another process is preparing). Processes still reading them keep their
            # open file (POSIX).
            with contextlib.suppress(OSError):
                if old.name.startswith(f"raw-{snapshot.version}") or old.stat().st_mtime_ns < made:
                    old.unlink()
        return fresh


class Snapshots:
    """The current snapshot of one store, replaced when the store changes.

    A change is copied at once (answers come from the new content from the next request on)
    and the serving copy is then built in a background thread and swapped in: same content,
    faster queries.

    Args:
        source: The store's DuckDB file (never written, opened only to copy it).
        directory: Where snapshots live; shared by the processes of one server. A private
            temporary directory (removed by :meth:`close`) when None.

    Raises:
        StoreError: The store cannot be read now (being written, missing, not a store).
    """

    def __init__(self, source: Path, directory: Path | None = None) -> None:
        self.source = source
        self._own_dir = directory is None
        self.directory = private_directory() if directory is None else directory
        # Removed on close, or at the latest when the process exits normally.
        self._cleanup = (
            weakref.finalize(self, shutil.rmtree, self.directory, True) if self._own_dir else None
        )
        self._lock = threading.Lock()
        self._retry_at = 0.0
        self._failed: Signature | None = None
        self._closed = False
        self._worker: threading.Thread | None = None
        #: Why the last refresh failed (None after a success).
        self.problem: str | None = None
        try:
            with self._lock:
                self._install(take(source, self.directory))
        except BaseException:
            self.close()
            raise

    def _install(self, snap: Snapshot) -> None:
        # Called with the lock held.
        self._current = snap
        if snap.optimized:
            return
        worker = threading.Thread(
            target=self._optimize, args=(snap,), name="eventwire-snapshot", daemon=True
        )
        self._worker = worker
        worker.start()

    def _optimize(self, snap: Snapshot) -> None:
        try:
            fresh = optimize(snap, self.directory)
        except (StoreError, OSError, duckdb.Error) as exc:
            self.problem = f"the serving copy could not be built (answers stay correct): {exc}"
            return
        with self._lock:
            if self._closed or self._current is not snap:
                fresh.close()
                return
            fresh.memo = snap.memo  # same content: what was computed from it still holds
            self._current = fresh

    def current(self) -> Snapshot:
        """The snapshot of the store's content now: copied first if the store has changed
        (a writer that still holds the store leaves the last snapshot in place)."""
        snap = self._current
        if signature(self.source) == snap.signature:
            return snap
        with self._lock:
            snap = self._current
            now = time.monotonic()
            sig = signature(self.source)
            if sig == snap.signature or (sig == self._failed and now < self._retry_at):
                return snap  # unchanged, or unchanged since a copy failed a moment ago
            try:
                fresh = take(self.source, self.directory)
            except StoreError as exc:
                self.problem = str(exc)
                self._failed, self._retry_at = sig, now + RETRY_SECONDS
                return snap
            self.problem = None
            # The old connection closes once the last cursor on it is collected.
            self._install(fresh)
            return fresh

    def peek(self) -> Snapshot:
        """The current snapshot, without looking at the store."""
        return self._current

    def changed(self) -> bool:
        """Whether the store differs from the current snapshot (one ``stat`` per file)."""
        return signature(self.source) != self._current.signature

    def settle(self, timeout: float | None = None) -> bool:
        """Wait until the serving copy of the current content answers; whether it does."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)
        return self._current.optimized

    def close(self) -> None:
        """Close the current snapshot; remove the directory if this object made it."""
        with self._lock:
            self._closed = True
        worker = getattr(self, "_worker", None)
        if worker is not None:
            worker.join(60)
        current = getattr(self, "_current", None)
        if current is not None:
            current.close()
        if self._cleanup is not None:
            self._cleanup()
