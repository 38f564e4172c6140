"""Work off the reactor thread: items gathered into batches, run on a worker thread.

A Scrapy pipeline or middleware sees one item (or request) at a time, on the
reactor thread; a database round trip or a de-duplication pass per item both
blocks every download for its duration and repeats per-call costs (a commit,
a query plan) hundreds of times. :class:`BatchQueue` gathers what is submitted
(``await queue.submit(x)``) while the previous batch runs, then runs
``fn(batch)`` on its executor, one batch at a time, in order, and hands each
submitter its own result (or the batch's exception). The reactor goes on
downloading meanwhile.

:class:`WorkerProcesses` runs CPU work (page extraction) in worker processes,
on the other cores, once they have started.

Used by :mod:`pipelines.dedup` and :mod:`pipelines.store` (one transaction
per batch, on the database's thread: :meth:`crawler.storage.database.Database.executor`)
and by :mod:`crawler.scheduling.incremental` (the look-ups of many requests in
one query each).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import multiprocessing
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any, Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class BatchQueue(Generic[T, R]):
    """Gather submitted values into batches processed by ``fn`` on ``executor`` (group commit).

    At most ``concurrency`` batches run at a time. A value submitted while fewer run starts
    a batch at the next turn of the event loop (with whatever else was
    submitted in the same turn), so a slow trickle of values waits for
    nothing; values submitted while the batches run wait for one to end and
    then go together, at most ``size`` per batch. Batches grow with the load, and
    their cost per value falls as they do.

    Args:
        fn: called with a list of values; returns one result per value, in order.
        executor: where ``fn`` runs (off the event loop's thread).
        size: the most values in one batch.
        concurrency: batches run at once (1: in order; more for a pool of workers).
    """

    def __init__(self, fn: Callable[[list[T]], Sequence[R]], executor: Executor, *, size: int = 50,
                 concurrency: int = 1) -> None:
        self.fn = fn
        self.executor = executor
        self.size = max(1, size)
        self.concurrency = max(1, concurrency)
        self._values: list[T] = []
        self._futures: list[asyncio.Future[R]] = []
        self._scheduled = False
        self._running = 0

    async def submit(self, value: T) -> R:
        """Queue *value*; returns its result once its batch has run (or raises the batch's error)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._values.append(value)
        self._futures.append(future)
        if self._running < self.concurrency and not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._start, loop)
        return await future

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._scheduled = False
        if self._running >= self.concurrency or not self._values:
            return
        values, futures = self._values[:self.size], self._futures[:self.size]
        del self._values[:self.size], self._futures[:self.size]
        self._running += 1
        running = loop.run_in_executor(self.executor, self.fn, values)
        if self._values and self._running < self.concurrency:
            self._start(loop)

        def done(task: asyncio.Future[Sequence[R]]) -> None:
            self._running -= 1
            if self._values:  # gathered while this batch ran: the next batch
                self._start(loop)
            if task.cancelled():
                for f in futures:
                    if not f.done():
                        f.cancel()
                return
            exc = task.exception()
            results: Sequence[R] = () if exc is not None else task.result()
            if exc is None and len(results) != len(futures):
                exc = RuntimeError(f"a batch of {len(futures)} gave {len(results)} results")
            for i, f in enumerate(futures):
                if f.done():
                    continue
                if exc is not None:
                    f.set_exception(exc)
                else:
                    f.set_result(results[i])

        running.add_done_callback(done)


class ThreadStats:
    """Counters kept on a worker thread, applied to the crawl's stats collector on the reactor thread.

    Scrapy's stats collector is a plain dict that extensions iterate (the run
    recorder): a worker thread must not add keys to it. Components that count
    on a worker thread count here; :meth:`apply` (called on the reactor thread
    when a batch is done, and at close) adds the counts to *target*.
    """

    def __init__(self, target: Any) -> None:
        self.target = target
        self._lock = threading.Lock()
        self._counts: dict[str, Any] = {}

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + count

    def get_value(self, key: str, default: Any = None) -> Any:
        with self._lock:
            pending = self._counts.get(key)
        value = self.target.get_value(key, default)
        return value if pending is None else (value or 0) + pending

    def apply(self) -> None:
        """Add the counts gathered so far to the target collector (reactor thread)."""
        with self._lock:
            counts, self._counts = self._counts, {}
        for key, count in counts.items():
            self.target.inc_value(key, count)


def _import_modules(names: tuple[str, ...]) -> None:
    for name in names:
        importlib.import_module(name)


def _ready() -> bool:
    return True


class WorkerProcesses:
    """Worker processes for CPU-bound calls, started in the background.

    The processes are spawned (not forked: the crawl process has threads) and
    import *modules* first; :attr:`ready` turns true once every worker has
    answered, so a caller does the work itself until then and never waits
    for the start-up. A worker that dies breaks the pool: its calls raise
    ``BrokenProcessPool`` (the caller sets :attr:`broken`).

    Args:
        workers: number of processes.
        modules: imported by each worker when it starts.
    """

    def __init__(self, workers: int, modules: tuple[str, ...] = ()) -> None:
        self.workers = max(1, workers)
        self.modules = modules
        self._pool: ProcessPoolExecutor | None = None
        self._warm: list[Future[bool]] = []
        self.broken = False

    def start(self) -> None:
        """Spawn the workers (returns at once)."""
        if self._pool is not None:
            return
        self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_import_modules, initargs=(self.modules,))
        self._warm = [self._pool.submit(_ready) for _ in range(self.workers)]

    @property
    def started(self) -> bool:
        return self._pool is not None

    @property
    def ready(self) -> bool:
        """Every worker started and answered (and none died)."""
        if self._pool is None or self.broken or not all(f.done() for f in self._warm):
            return False
        if any(f.cancelled() or f.exception() is not None for f in self._warm):
            self.broken = True
            return False
        return True

    @property
    def executor(self) -> ProcessPoolExecutor:
        """The pool (after :meth:`start`): for ``loop.run_in_executor`` or a :class:`BatchQueue`."""
        if self._pool is None:
            raise RuntimeError("WorkerProcesses.start() was not called")
        return self._pool

    def close(self) -> None:
        """Stop the workers (queued calls are cancelled)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def asyncio_loop_available() -> bool:
    """Whether components may await asyncio futures: Scrapy runs on the asyncio reactor.

    False (so the components work synchronously) where no reactor is installed
    yet, as when a test builds them from a crawler without running it.
    """
    from scrapy.utils.asyncio import is_asyncio_available

    try:
        return is_asyncio_available()
    except RuntimeError:
        return False
