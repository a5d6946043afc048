"""Batches of rows from a table, prepared (parsed, checked, encrypted) in worker processes
for large files while this process talks to the database.

An import's own work splits in two: what needs no database (reading worksheet XML, the
per-row rules, encrypting ID and phone numbers — about two thirds of it for people) and what
does (matching the batch with stored data, writing it, in one transaction). The first part
runs in a pool of processes, each piece of the sheet to whichever is free; the results come
back in file order, so reports and writes are exactly those of a single-process run.
The writes of one batch, in turn, run beside the checking of the next (`Overlapped`).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from gezhi.dataio.bulk import BATCH
from gezhi.dataio.readers import Table

# Below this much sheet XML (or CSV), starting workers costs more than it saves.
PARALLEL_MIN_BYTES = 4 * 1024 * 1024


def row_dict(values: list, pairs: list[tuple[int, str]]) -> dict | None:
    """The row's cells by column key, text stripped, blanks left out; None for an empty row."""
    row = {}
    width = len(values)
    for index, key in pairs:
        if index < width:
            value = values[index]
            if value.__class__ is str:
                value = value.strip()
                if value:
                    row[key] = value
            elif value is not None:
                row[key] = value
    return row or None


def batches(table: Table, pairs: list[tuple[int, str]]) -> Iterator[list[tuple[int, dict]]]:
    batch = []
    for number, values in table.rows:
        row = row_dict(values, pairs)
        if row is None:
            continue
        batch.append((number, row))
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def worker_count(importer_class, table: Table) -> int:
    """Worker processes for this import: none for small files or kinds whose rows need the
    database from the start (their `prepare` does nothing)."""
    from gezhi.dataio.kinds.base import Importer  # not at import: spawned workers load
    # this module before Django is set up

    if importer_class.prepare is Importer.prepare:
        return 0
    if table.size < getattr(settings, "GEZHI_IMPORT_PARALLEL_MIN_BYTES", PARALLEL_MIN_BYTES):
        return 0
    configured = settings.GEZHI_IMPORT_WORKERS
    count = configured if configured is not None else min(os.cpu_count() or 1, 4)
    return count if count >= 1 else 0


class Prepared:
    """(prepared rows, number of non-empty rows) a batch at a time, in file order:

        with Prepared(importer, table, pairs) as batches:
            for rows, count in batches: ...

    Worker processes, if any, start on entering: forking is quick and inherits the loaded
    code, but is safe only while this process runs one thread (the command line). Under a web
    server, where imports run in a thread, fresh interpreters start instead.
    """

    def __init__(self, importer, table: Table, pairs: list[tuple[int, str]]):
        self.importer, self.table, self.pairs = importer, table, pairs
        self.context = importer.prepare_context()
        self.workers = worker_count(type(importer), table)
        self.pool = None
        self.in_flight: deque = deque()
        self.payloads = None

    def __enter__(self) -> Prepared:
        if self.workers:
            fork = (threading.active_count() == 1
                    and "fork" in multiprocessing.get_all_start_methods())
            self.pool = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("fork" if fork else "spawn"),
                initializer=_init, initargs=(self.importer.kind, self.table.parser, self.pairs,
                                             self.context, not fork))
            self.payloads = self.table.payloads()
            self._fill()  # starts the processes now
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def _fill(self) -> None:
        for payload in self.payloads:
            self.in_flight.append(self.pool.submit(_work, payload))
            if len(self.in_flight) > self.workers * 2:
                return

    def __iter__(self) -> Iterator[tuple[list, int]]:
        if self.pool is None:
            for batch in batches(self.table, self.pairs):
                yield self.importer.prepare(batch, self.context), len(batch)
            return
        previous = self.table.header_row
        while self.in_flight:
            items, count, total, last = self.in_flight.popleft().result()
            previous = _renumber(items, previous, total, last)
            self._fill()
            yield items, count


def _renumber(items: list, previous: int, total: int, last: int | None) -> int:
    """Rows of a piece without a row number of their own (-k: the k-th row of the piece)
    follow the previous piece's last row."""
    for item in items:
        if item.row < 0:
            item.row = previous - item.row
    return last if last is not None else previous + total


_worker: dict = {}


def _init(kind: str, parser, pairs, context: dict, setup: bool) -> None:
    if setup:
        import django

        django.setup()
    from gezhi.dataio.kinds import KINDS

    _worker.update(prepare=KINDS[kind].prepare, parser=parser, pairs=pairs, context=context)


def _work(payload) -> tuple[list, int, int, int | None]:
    rows = _worker["parser"].parse(payload)
    pairs = _worker["pairs"]
    batch = []
    for i, (number, values) in enumerate(rows):
        row = row_dict(values, pairs)
        if row is not None:
            batch.append((number if number is not None else -(i + 1), row))
    items = _worker["prepare"](batch, _worker["context"])
    return items, len(batch), len(rows), rows[-1][0] if rows else None


class Overlapped:
    """Runs each batch through the importer, writing one batch while the next is checked,
    for importers that split `process` into `match` (queries, then checks in Python) and
    `write`; others, and SQLite (in process: nothing to wait for), run `process` as is.

        with Overlapped(importer) as run:
            for rows, count in batches:
                run(rows, write=True)

    Without this the database server would sit idle while this process checks a batch, and
    this process idle while the server writes one: about half the time each, for people.
    The writes run in one thread on this thread's connection, inside its transaction, and
    one thread at a time uses it: a batch's writes start once the next batch's queries are
    done (`match` calls back), and are waited for before the batch after it queries. An
    error in the writes comes out of the next call, or of the `with`.
    """

    def __init__(self, importer):
        self.importer = importer
        self.db = connections[DEFAULT_DB_ALIAS]
        self.enabled = hasattr(importer, "match") and self.db.vendor == "postgresql"
        self.executor: ThreadPoolExecutor | None = None
        self.waiting = None  # a batch's writes, not started
        self.running = None  # the future of the writes in flight

    def __enter__(self) -> Overlapped:
        if self.enabled:
            self.db.inc_thread_sharing()
            self.executor = ThreadPoolExecutor(1, thread_name_prefix="import-writes",
                                               initializer=_share_connection,
                                               initargs=(self.db,))
        return self

    def __call__(self, rows: list, *, write: bool) -> None:
        if self.executor is None:
            self.importer.process(rows, write=write)
            return
        try:
            plan = self.importer.match(rows, write=write, fetched=self._start)
        finally:
            self._wait()
        if self.waiting is not None:  # no queries for this batch, so no call back
            self.importer.write(self.waiting)
        self.waiting = plan

    def _start(self) -> None:
        if self.waiting is not None:
            self.running = self.executor.submit(self.importer.write, self.waiting)
            self.waiting = None

    def _wait(self) -> None:
        if self.running is not None:
            running, self.running = self.running, None
            running.result()

    def __exit__(self, exc_type, *exc) -> None:
        if self.executor is None:
            return
        try:
            self._wait()
            if exc_type is None and self.waiting is not None:
                self.importer.write(self.waiting)
        finally:
            self.waiting = None
            self.executor.shutdown(wait=True)
            self.db.dec_thread_sharing()


def _share_connection(db) -> None:
    connections[DEFAULT_DB_ALIAS] = db
