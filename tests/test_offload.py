"""crawler.offload: batches off the event loop's thread, thread-side stats, worker processes; the template snapshot."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor


from crawler.extract import SiteTemplate, extract_article
from crawler.offload import BatchQueue, ThreadStats, WorkerProcesses
from crawler.stats import CounterStats
from pipelines.clean import extract_many


def test_batch_queue_gathers_what_arrives_while_a_batch_runs() -> None:
    batches: list[list[int]] = []
    threads: set[str] = set()
    gate = threading.Event()

    def double(values: list[int]) -> list[int]:
        threads.add(threading.current_thread().name)
        if not batches:
            gate.wait(5)  # the first batch runs while the others are submitted
        batches.append(values)
        return [v * 2 for v in values]

    async def main() -> list[int]:
        with ThreadPoolExecutor(1, thread_name_prefix="batches") as pool:
            queue = BatchQueue(double, pool, size=3)
            first = asyncio.ensure_future(queue.submit(0))
            await asyncio.sleep(0.05)
            rest = [asyncio.ensure_future(queue.submit(i)) for i in range(1, 8)]
            await asyncio.sleep(0.05)
            gate.set()
            return [await first, *[await r for r in rest]]

    assert asyncio.run(main()) == [i * 2 for i in range(8)]
    assert batches == [[0], [1, 2, 3], [4, 5, 6], [7]]  # in order, at most `size` each
    assert threads == {"batches_0"}


def test_batch_queue_runs_up_to_concurrency_batches_at_once() -> None:
    running, peak = [0], [0]
    lock = threading.Lock()

    def slow(values: list[int]) -> list[int]:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        threading.Event().wait(0.1)
        with lock:
            running[0] -= 1
        return values

    async def main() -> list[int]:
        with ThreadPoolExecutor(4) as pool:
            queue = BatchQueue(slow, pool, size=2, concurrency=3)
            return await asyncio.gather(*(queue.submit(i) for i in range(12)))

    assert asyncio.run(main()) == list(range(12))
    assert peak[0] == 3


def test_batch_queue_alone_value_waits_for_nothing_and_errors_reach_every_submitter() -> None:
    def fail(values: list[int]) -> list[int]:
        raise ValueError(f"bad batch {values}")

    async def main() -> None:
        with ThreadPoolExecutor(1) as pool:
            queue = BatchQueue(fail, pool, size=10)
            results = await asyncio.gather(queue.submit(1), queue.submit(2), return_exceptions=True)
            assert [str(r) for r in results] == ["bad batch [1, 2]", "bad batch [1, 2]"]
            ok = BatchQueue(lambda vs: [v + 1 for v in vs], pool)
            assert await asyncio.wait_for(ok.submit(41), 5) == 42

    asyncio.run(main())


def test_thread_stats_are_applied_on_the_callers_thread() -> None:
    target = CounterStats()
    stats = ThreadStats(target)
    workers = [threading.Thread(target=lambda: [stats.inc_value("dedup/unique") for _ in range(1000)])
               for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert target.get_value("dedup/unique") is None  # nothing reaches the collector from a worker
    assert stats.get_value("dedup/unique") == 4000
    stats.apply()
    stats.inc_value("dedup/unique", 2)
    stats.apply()
    assert target.get_value("dedup/unique") == 4002


def test_template_snapshot_judges_blocks_as_the_template_does() -> None:
    tpl = SiteTemplate(min_pages=2, min_share=0.5)
    for page in (["a", "b", "c"], ["a", "b"], ["a", "d"], ["e"]):
        tpl.observe(page)
    snap = tpl.snapshot()
    assert snap.counts == {"a": 3, "b": 2}
    for h in "abcdef":
        assert snap.is_template_hash(h) == tpl.is_template_hash(h)


PAGE = ("<html lang='ar'><head><title>خبر</title></head><body><article><h1>عنوان الخبر الأول في الصفحة</h1>"
        + "".join(f"<p>أكد وزير الخارجية أن المحادثات ستتواصل خلال الأسبوع المقبل في العاصمة رقم {i}.</p>"
                  for i in range(8)) + "</article></body></html>").encode()


def test_worker_processes_extract_as_in_process() -> None:
    workers = WorkerProcesses(1, ("crawler.extract",))

    async def main() -> None:
        assert not workers.ready
        workers.start()
        for _ in range(600):
            if workers.ready:
                break
            await asyncio.sleep(0.1)
        assert workers.ready
        queue = BatchQueue(extract_many, workers.executor, size=16, concurrency=1)
        calls = [((PAGE, f"https://a.example/news/{i}"), {"template": None}) for i in range(3)]
        got = await asyncio.gather(*(queue.submit(c) for c in calls))
        want = extract_article(PAGE, "https://a.example/news/1")
        assert [(g.title, g.text, g.is_article) for g in got] == [(want.title, want.text, want.is_article)] * 3

    try:
        asyncio.run(main())
    finally:
        workers.close()
