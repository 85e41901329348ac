"""Parallel ingest on one machine: worker processes run the stages, the parent writes.

Each worker process loads the pipeline (and the spaCy model) once and then runs chunks of
``options.batch_size`` articles through :meth:`Pipeline.run_many`. The parent reads the inputs
as a stream and keeps at most two chunks per worker in flight, so memory does not grow with the
corpus. Results come back in whatever order workers finish them (ingest is order-independent:
an article is identified by its content hash) and the parent, the only DuckDB writer, stores
them with :meth:`Store.add_many` in batches.

A worker that dies (segfault, out-of-memory kill, ``os._exit`` in a plugin) does not hang the
run: the chunk it was working on is retried one article at a time in a fresh worker, and the
article that kills a worker a second time becomes a rejection of stage ``parallel.worker``.

Workers are started with the ``spawn`` method: the parent may hold an open DuckDB connection
and threads, which must not be forked. Stages are sent to the workers as the registered
functions themselves, so a third-party stage works in a worker as long as the module defining
it is importable there (pickle imports it, which registers it).
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import signal
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import Options
from .errors import EventwireError, OptionsError, PipelineError, StageError
from .memory import freeze_loaded, release_after_batch
from .model import Article, Event, Rejection
from .pipeline import DEFAULT_STAGES, Pipeline, Stage, stage

if TYPE_CHECKING:
    from .store import IngestReport, Store

__all__ = ["WORKER_STAGE", "ProcessPipeline", "ingest_parallel"]

#: Stage name recorded on rejections of articles that killed a worker process.
WORKER_STAGE = "parallel.worker"

#: Chunks queued per worker beyond the one it is working on. None: a worker gets its next
#: chunk when it returns one, so work is balanced to within one chunk at the end of a run;
#: the round trip costs milliseconds against seconds of work per chunk.
_DEPTH = 0
#: Seconds between checks, in an idle worker, that the parent is still alive.
_PARENT_CHECK = 2.0
#: Seconds to wait for a worker to stop after being asked before it is terminated.
_STOP_TIMEOUT = 10.0

Outcome = list[Event] | StageError


# -- the worker process ------------------------------------------------------------------------


def _register(chain: Sequence[Stage]) -> None:
    """Make sure every stage of ``chain`` is registered in this process (idempotent)."""
    for st in chain:
        stage(st.name, needs=st.needs, adds=st.adds, components=st.components)(st.fn)


def _worker_main(tasks: Any, results: Connection, options: Options, chain: Sequence[Stage]) -> None:
    """Body of a worker process: load once, then run chunks until told to stop."""
    # Ctrl-C reaches the whole process group: the parent decides, workers are told to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _register(chain)
        pipeline = Pipeline(options, stages=tuple(st.name for st in chain))
        if pipeline.context.components or any(
            st.name.startswith("parse.spacy") for st in pipeline.chain
        ):
            pipeline.context.nlp  # noqa: B018  load the model before the first chunk
        # Stages load their resources (gazetteer, alias table) lazily: one small article
        # loads them all now, so the first chunk is not slower than the others.
        pipeline.warm_up()
    except EventwireError as exc:
        results.send(("fatal", type(exc).__name__, str(exc)))
        return
    # What is loaded now stays until the worker exits: keep it out of the garbage
    # collector's sight, so the collection after every chunk is cheap (eventwire.memory).
    freeze_loaded()
    results.send(("ready", pipeline.version, None))
    parent = mp.parent_process()
    while True:
        try:
            task = tasks.get(timeout=_PARENT_CHECK)
        except queue.Empty:
            # Workers are not daemons (stages may start helper processes), so a worker whose
            # parent was killed must notice on its own and exit.
            if parent is not None and not parent.is_alive():
                break
            continue
        if task is None:
            break
        chunk_id, articles = task
        wall, cpu = time.perf_counter(), time.process_time()
        outcome: list[list[Event] | tuple[str, str]] = []
        for _article, result in pipeline.run_many(articles):
            # StageError does not survive pickling (two-argument constructor): send a tuple.
            outcome.append((result.stage, result.reason) if isinstance(result, StageError)
                           else result)  # fmt: skip
        timing = (time.perf_counter() - wall, time.process_time() - cpu)
        results.send(("done", chunk_id, (outcome, timing)))
        del articles, outcome, task
        # The chunk's parsed documents are cyclic garbage: free them now, not after several
        # more chunks, so a worker's memory does not depend on how long it has run.
        release_after_batch()


@dataclass
class _Worker:
    process: Any
    tasks: Any
    results: Connection
    ready: bool = False
    inflight: deque[tuple[int, list[Article], bool]] = field(default_factory=deque)


# -- the parent side ---------------------------------------------------------------------------


class ProcessPipeline:
    """A pipeline whose stages run in ``workers`` processes; same interface as :class:`Pipeline`.

    Use it where a :class:`Pipeline` is expected by :meth:`Store.ingest`, or call
    :meth:`run_many` directly. Results are yielded as workers finish them, not in input order.

    Args:
        options: Resolved options (``batch_size`` articles are sent to a worker at a time).
        workers: Number of worker processes (at least 1).
        stages: Stage names in order; defaults to the default chain.

    Raises:
        OptionsError: ``workers`` is less than 1.
        PipelineError: The chain is inconsistent (checked in the parent, before any worker).
    """

    def __init__(
        self, options: Options, workers: int, stages: Sequence[str] = DEFAULT_STAGES
    ) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise OptionsError(f"workers must be a whole number of at least 1, not {workers!r}")
        self.options = options
        self.workers = workers
        self.pipeline = Pipeline(options, stages=stages)  # checks the chain; loads nothing
        self._ctx = mp.get_context("spawn")
        #: Worker processes that died while working and were replaced.
        self.crashes = 0
        #: Seconds from the start of the last :meth:`run_many` until every worker was ready.
        self.startup_seconds = 0.0
        #: Wall and CPU seconds workers spent on chunks (summed over workers), so a run can
        #: tell waiting workers (little busy time) from a busy machine (CPU well below busy).
        self.busy_seconds = 0.0
        self.cpu_seconds = 0.0
        self._next_id = 0  # the number of the next chunk sent (from 0 in each run)

    @property
    def version(self) -> str:
        """Version of the underlying pipeline."""
        return self.pipeline.version

    @property
    def chain(self) -> list[Stage]:
        """The checked stages."""
        return self.pipeline.chain

    def run(self, article: Article) -> list[Event]:
        """Run one article in this process (no workers are started for a single article)."""
        return self.pipeline.run(article)

    def _start(self) -> _Worker:
        tasks = self._ctx.Queue()
        receive, send = self._ctx.Pipe(duplex=False)
        process = self._ctx.Process(
            target=_worker_main,
            args=(tasks, send, self.options, list(self.chain)),
            name="eventwire-worker",
            daemon=False,  # stages may start helper processes; _stop() ends workers
        )
        process.start()
        send.close()  # the parent keeps only the reading end, so a dead worker reads as EOF
        return _Worker(process, tasks, receive)

    def run_many(self, articles: Iterable[Article]) -> Iterator[tuple[Article, Outcome]]:
        """Run the chain over many articles in the worker processes.

        Yields each article with its events, or with the :class:`StageError` that stopped it,
        in the order the articles came in (as one process does: what is stored, and so how
        reports are merged into clusters, does not depend on which worker finished first);
        an article that killed a worker twice comes back with a ``parallel.worker`` error.

        Raises:
            PipelineError: A worker could not load the pipeline (for example no model), or
                died before it was ready.
        """
        position: dict[int, int] = {}

        def numbered() -> Iterator[Article]:
            for n, article in enumerate(articles):
                position[id(article)] = n  # the article stays referenced until it comes back
                yield article

        waiting: dict[int, tuple[Article, Outcome]] = {}
        due = 0
        for article, outcome in self._run_unordered(numbered()):
            waiting[position.pop(id(article))] = (article, outcome)
            while due in waiting:
                yield waiting.pop(due)
                due += 1
        for n in sorted(waiting):  # only if an article never came back (not expected)
            yield waiting.pop(n)

    def _run_unordered(self, articles: Iterable[Article]) -> Iterator[tuple[Article, Outcome]]:
        """:meth:`run_many` in the order the workers finish."""
        self.startup_seconds = self.busy_seconds = self.cpu_seconds = 0.0
        source = iter(articles)
        exhausted = False
        retry: deque[tuple[list[Article], bool]] = deque()
        self._next_id = 0
        started = time.perf_counter()
        pool = [self._start()]
        if self.workers > 1 and not Path(self.options.gazetteer).expanduser().exists():
            # The gazetteer index is built on first use: let one worker build it, not all.
            while not pool[0].ready:
                wait([pool[0].results, pool[0].process.sentinel])
                self._collect(pool[0], 0, pool, retry)  # nothing was sent yet: nothing back
        pool += [self._start() for _ in range(self.workers - 1)]
        try:
            while True:
                if not self.startup_seconds and all(w.ready for w in pool):
                    self.startup_seconds = time.perf_counter() - started
                exhausted = self._feed(pool, source, retry, exhausted)
                if exhausted and not retry and not any(w.inflight for w in pool):
                    return
                handles: list[Any] = [w.results for w in pool] + [w.process.sentinel for w in pool]
                ready = wait(handles)
                finished: list[tuple[Article, Outcome]] = []
                for index, w in enumerate(list(pool)):
                    if w.results in ready or w.process.sentinel in ready:
                        finished += self._collect(w, index, pool, retry)
                # Give the workers their next chunks before handing the results on: the
                # caller may spend a while on them (a write batch, clustering), and a worker
                # without a chunk would wait that long.
                exhausted = self._feed(pool, source, retry, exhausted)
                yield from finished
        finally:
            _stop(pool)

    def _feed(
        self,
        pool: list[_Worker],
        source: Iterator[Article],
        retry: deque[tuple[list[Article], bool]],
        exhausted: bool,
    ) -> bool:
        """Send every ready worker up to ``_DEPTH + 1`` chunks, retries first; returns whether
        ``source`` is exhausted."""
        for w in pool:
            while w.ready and len(w.inflight) <= _DEPTH:
                if retry:
                    chunk, single = retry.popleft()
                elif not exhausted:
                    chunk = _take(source, self.options.batch_size)
                    single = False
                    if not chunk:
                        exhausted = True
                        break
                else:
                    break
                w.inflight.append((self._next_id, chunk, single))
                w.tasks.put((self._next_id, chunk))
                self._next_id += 1
        return exhausted

    def _collect(
        self,
        w: _Worker,
        index: int,
        pool: list[_Worker],
        retry: deque[tuple[list[Article], bool]],
    ) -> list[tuple[Article, Outcome]]:
        """Read what worker ``w`` sent; replace it (re-queueing its chunks) if it died."""
        out: list[tuple[Article, Outcome]] = []
        try:
            while w.results.poll():
                kind, key, payload = w.results.recv()
                if kind == "fatal":
                    raise PipelineError(f"a worker process could not start: {payload}")
                if kind == "ready":
                    w.ready = True
                    continue
                chunk_id, chunk, _single = w.inflight.popleft()
                payload, (busy, cpu) = payload
                self.busy_seconds += busy
                self.cpu_seconds += cpu
                assert chunk_id == key, "workers answer chunks in the order they get them"
                for article, result in zip(chunk, payload, strict=True):
                    out.append((article, StageError(*result) if isinstance(result, tuple)
                                else result))  # fmt: skip
        except (EOFError, OSError):
            pass  # the worker is gone; handled below
        if w.process.is_alive() or not _dead(w):
            return out
        code = w.process.exitcode
        if not w.ready:
            raise PipelineError(
                f"a worker process exited with code {code} before loading the pipeline; "
                "run without --workers (in one process) to see the error"
            )
        self.crashes += 1
        if w.inflight:
            _, culprit, single = w.inflight.popleft()
            queued = [(chunk, s) for _, chunk, s in w.inflight]
            retry.extendleft(reversed(queued))
            if single or len(culprit) == 1:
                out.append((culprit[0], StageError(
                    WORKER_STAGE,
                    f"the worker process died (exit code {code}) while processing this "
                    "article, twice; it was skipped so the rest of the run could go on",
                )))  # fmt: skip
            else:
                # Find the article responsible: each one again, alone, in a fresh worker.
                retry.extendleft(([a], True) for a in reversed(culprit))
        w.results.close()
        pool[index] = self._start()
        return out


def _dead(w: _Worker) -> bool:
    w.process.join(timeout=5)
    return not w.process.is_alive()


def _take(source: Iterator[Article], n: int) -> list[Article]:
    chunk: list[Article] = []
    for article in source:
        chunk.append(article)
        if len(chunk) >= n:
            break
    return chunk


def _stop(pool: list[_Worker]) -> None:
    for w in pool:
        if w.process.is_alive():
            try:
                w.tasks.put(None)
            except (OSError, ValueError):
                pass
    deadline = time.monotonic() + _STOP_TIMEOUT
    for w in pool:
        w.process.join(timeout=max(0.0, deadline - time.monotonic()))
        if w.process.is_alive():
            w.process.terminate()
            w.process.join(timeout=5)
        w.tasks.close()
        w.tasks.cancel_join_thread()
        w.results.close()


# -- ingest ------------------------------------------------------------------------------------


def ingest_parallel(
    store: Store,
    inputs: Sequence[str] | Iterable[Article | Rejection],
    options: Options,
    workers: int,
    progress: Callable[[IngestReport], None] | None = None,
    *,
    stages: Sequence[str] = DEFAULT_STAGES,
    write_batch: int | None = None,
    runner: ProcessPipeline | None = None,
) -> IngestReport:
    """Ingest inputs into ``store`` with the stages running in ``workers`` processes.

    :meth:`Store.ingest` with a :class:`ProcessPipeline`: rejections among the inputs are
    recorded, articles already stored (or repeated in the inputs) are counted as duplicates
    and never run, and an article a stage fails on becomes a rejection. Stored articles are
    written ``write_batch`` at a time (one transaction each), so an interrupted run loses at
    most the last unwritten batch and can simply be run again.

    Args:
        store: The open store; only this process writes to it.
        inputs: Paths, folders, feeds, URL lists or URLs (read with
            :func:`eventwire.sources.iter_articles`), or already-read articles and rejections.
        options: Resolved options.
        workers: Number of worker processes.
        progress: Called with the running totals after every rejection, duplicate and
            write batch.
        stages: Stage names; defaults to the default chain.
        write_batch: Articles per store transaction; by default one chunk per worker
            (``workers * batch_size``). The last batch is written after the workers are done,
            while they wait: a small one keeps that tail short (a transaction costs ~50 ms
            of writer time with clustering, 256 articles ~0.6 s).
        runner: A :class:`ProcessPipeline` to use instead of one built from ``options``,
            ``workers`` and ``stages`` (to read its ``startup_seconds`` or ``crashes`` after).

    Returns:
        The totals of this run, with its rejections.

    Raises:
        OptionsError: ``workers`` or ``write_batch`` is not a positive whole number.
        PipelineError: The chain is inconsistent or a worker cannot load it.
        StoreError: A write failed.
    """
    runner = runner or ProcessPipeline(options, workers, stages)
    if write_batch is None:
        write_batch = runner.workers * options.batch_size
    if isinstance(write_batch, bool) or not isinstance(write_batch, int) or write_batch < 1:
        raise OptionsError(f"write_batch must be at least 1, not {write_batch!r}")
    items: Iterable[Article | Rejection | str]
    if isinstance(inputs, Sequence) and all(isinstance(i, str) for i in inputs):
        from .sources import iter_articles

        items = iter_articles(list(inputs), options=options)  # type: ignore[arg-type]
    else:
        items = inputs  # type: ignore[assignment]
    # The bookkeeping (duplicates, rejections, batched writes, Ctrl-C) is Store.ingest's:
    # only what runs the stages differs.
    return store.ingest(items, runner, progress=progress, write_batch=write_batch)
