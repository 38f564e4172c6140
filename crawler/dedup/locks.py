"""Band locks: the writers of a shared crawl cluster copies that share an LSH band one at a time.

Two workers storing copies of one story at the same moment would each read the
index, find nothing, and found two clusters. A batch therefore takes, before its
candidate query, a PostgreSQL advisory lock on every LSH band key of its copies
(and of its new headline spellings), and holds them until its articles are
*stored*, not only until its index rows commit: a candidate whose index row is
committed but whose article is not yet stored reads as dangling (crash-safe
rule of :mod:`crawler.dedup.clusterer`), so the next writer must wait for the
article too. Writers of copies that share no band never wait for each other.

Why session-level locks on a connection of their own, not
``pg_advisory_xact_lock``: the index transaction commits before the article is
written (by the store pipeline, in another transaction), and transaction-level
locks would be gone by then; ``docs/benchmarks.md`` has the measurement
(transaction-level locks leave copies apart, these do not). A connection that
dies (a killed worker) drops its locks with it.

Clusters too: a copy joining a cluster must be within reach of every member
(complete link), and a member another worker is still writing may share no band
with it. So a batch, once it has decided, locks the clusters its copies joined or
founded (:meth:`HeldLocks.lock_clusters`, until released like the bands), and a
batch about to read a cluster's members first waits until no other writer holds
that cluster (:meth:`HeldLocks.wait_cluster`: a shared lock, released at once).

Deadlock freedom: band keys are taken in ascending order, all at the start of
the batch, by one statement; cluster keys likewise, all at once, after deciding.
A batch that waits for a cluster holds no cluster lock yet, and cluster holders
that are done only wait for their articles to be written, which takes no
advisory lock: no wait can come back to its waiter. Lock-table room: a batch
with more than ``max_keys`` keys takes one exclusive lock on the whole index
instead (every other batch holds it shared), and a process holds at most
``max_held`` batches' locks at once, so a worker uses at most
``max_keys * max_held`` entries of PostgreSQL's lock table
(``max_locks_per_transaction * max_connections``, 6,400 by default).

SQLite (one writer process): :meth:`BandLocks.for_database` gives None, and
nothing changes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import xxhash

from crawler.dedup.minhash import to_signed64

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from crawler.storage.database import Database

logger = logging.getLogger(__name__)

#: the whole index, in PostgreSQL's two-int advisory key space (apart from the bigint
#: band keys and from crawler.scheduling.lock's keys)
_INDEX_LOCK = (0x64656470, 0x6C6F636B)  # "dedp", "lock"
#: one statement takes every key, in ascending order (the subquery's ORDER BY is kept:
#: a sorted subquery is not flattened into the aggregate above it)
_LOCK_KEYS = "SELECT count(pg_advisory_lock(k)) FROM (SELECT unnest(%b::bigint[]) AS k ORDER BY 1) AS keys"


class HeldLocks:
    """The locks of one batch, held on their own connection until :meth:`release`."""

    def __init__(self, owner: BandLocks, conn: Connection | None, keys: int, whole_index: bool = False) -> None:
        self.owner = owner
        self.conn = conn
        self.keys = keys
        self.whole_index = whole_index  # a big batch: one exclusive lock on the index
        self._released = False

    def lock_clusters(self, cluster_ids: Iterable[str]) -> None:
        """Lock the clusters the batch's copies joined or founded (exclusive, in key order), until release.

        Taken once the batch has decided, before its index rows commit: a writer that
        checks a cluster's members (:meth:`wait_cluster`) waits for copies of it still
        being written, even when they share no band with its own copy.
        """
        if self.conn is not None:
            keys = sorted({cluster_key(c) for c in cluster_ids})
            if keys:
                self.conn.exec_driver_sql(_LOCK_KEYS, (keys,))

    def wait_cluster(self, cluster_id: str) -> None:
        """Wait until no other writer holds *cluster_id* (its members are stored), then go on."""
        if self.conn is not None:
            self.conn.exec_driver_sql("SELECT pg_advisory_lock_shared(%s), pg_advisory_unlock_shared(%s)",
                                      (cluster_key(cluster_id),) * 2)

    def release(self) -> None:
        """Unlock (idempotent; thread-safe). A connection that cannot unlock is dropped, which unlocks."""
        with self.owner._guard:
            if self._released:
                return
            self._released = True
        conn, self.conn = self.conn, None
        try:
            if conn is not None:
                try:
                    conn.exec_driver_sql("SELECT pg_advisory_unlock_all()")
                    conn.close()
                except Exception:  # noqa: BLE001 - the server is away: the session and its locks go
                    logger.warning("Could not release dedup band locks; dropping their connection", exc_info=True)
                    conn.invalidate()
                    conn.close()
        finally:
            self.owner._slots.release()


def cluster_key(cluster_id: str) -> int:
    """The advisory-lock key of a cluster (bigint; apart from band keys but by chance, which only makes a wait)."""
    return to_signed64(xxhash.xxh64_intdigest(b"cluster:" + cluster_id.encode("utf-8")))


class NoLocks(HeldLocks):
    """What :meth:`BandLocks.acquire` stands for where no locks are needed."""

    def __init__(self) -> None:
        self._released = True
        self.conn = None  # lock_clusters and wait_cluster do nothing
        self.keys, self.whole_index = 0, False

    def release(self) -> None:
        return


class BandLocks:
    """Advisory locks on LSH band keys (PostgreSQL).

    Args:
        engine: the database's engine; each held batch checks out one connection.
        max_keys: a batch with more keys locks the whole index instead.
        max_held: batches holding locks at once in this process (more wait).
    """

    def __init__(self, engine: Engine, *, max_keys: int = 512, max_held: int = 4) -> None:
        self.engine = engine
        self.max_keys = max(1, max_keys)
        self.max_held = max(1, max_held)
        self._slots = threading.BoundedSemaphore(self.max_held)
        self._guard = threading.Lock()

    @classmethod
    def for_database(cls, db: Database, *, max_keys: int = 512, max_held: int = 4) -> BandLocks | None:
        """Locks for *db*, or None where one process writes (SQLite)."""
        if db.dialect != "postgresql":
            return None
        return cls(db.engine, max_keys=max_keys, max_held=max_held)

    def acquire(self, keys: Iterable[int]) -> HeldLocks:
        """Lock *keys* (waits for other holders of any of them); returns the held locks."""
        values = np.unique(np.fromiter(keys, dtype=np.int64)).tolist()
        self._slots.acquire()
        conn = None
        try:
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            whole = len(values) > self.max_keys
            if whole:
                conn.exec_driver_sql("SELECT pg_advisory_lock(%s, %s)", _INDEX_LOCK)
            else:
                conn.exec_driver_sql("SELECT pg_advisory_lock_shared(%s, %s)", _INDEX_LOCK)
                if values:
                    conn.exec_driver_sql(_LOCK_KEYS, (values,))
        except BaseException:
            if conn is not None:
                conn.invalidate()  # whatever it took goes with the session
                conn.close()
            self._slots.release()
            raise
        return HeldLocks(self, conn, len(values), whole)
