"""Mirror benchmark: change-to-queue-item latency under load, publish throughput against a
plain BatchWriteItem loop, and what a cache hit saves over the PostgreSQL reads it replaces.

    make bench-mirror                          # the issue's run: 50 writes/s for 60 s
    BENCH_SECONDS=15 make bench-mirror         # a quicker run

Against the real PostgreSQL (a separate database `<name>_mirror_bench`, built once), Redis
and DynamoDB Local, with a real Celery worker (2 processes) publishing:

1. latency: BENCH_RATE writes/s (default 50) for BENCH_SECONDS (60) through the write path,
   spread over 10 users with 2 devices each, then BENCH_LIGHT_RATE (10) for 20 s; each change's latency is its `published_at`
   (set after its queue items are written) minus its `created_at` (set in its transaction,
   just before commit): p50, p95, max;
2. throughput: publish_changes on 3,000 unpublished changes for 2 devices (6,000 items),
   against the floor: the same items written by a bare boto3 BatchWriteItem loop;
3. caches: for users with 100 to 100,000 entries, the compute (the PostgreSQL reads a
   cache hit replaces) against a hit (change_seq read + GetItem) and a miss. A cache that
   a hit does not make at least 3x cheaper, at the sizes people have, is not worth keeping.

Writes docs/benchmarks/mirror.md and docs/benchmarks/mirror.json. Ratios are the result:
the machine is shared and noisy.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RATE = float(os.environ.get("BENCH_RATE", "50"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
LIGHT_RATE = float(os.environ.get("BENCH_LIGHT_RATE", "10"))
WRITERS = 10
THREADS = int(os.environ.get("BENCH_THREADS", "4"))
WORKER_PROCESSES = int(os.environ.get("BENCH_WORKER_PROCESSES", "2"))
SIZES = tuple(int(n) for n in os.environ.get("BENCH_SIZES", "100,1000,10000,100000").split(","))
REPEATS = int(os.environ.get("BENCH_REPEATS", "30"))
THROUGHPUT_CHANGES = 3000
SEED = 20261122
ENV = {
    "DJANGO_SETTINGS_MODULE": "personalpod.settings.test",
    "DYNAMODB_TABLE_PREFIX": "bench_",
    "CELERY_QUEUE": "bench_mirror",
    "CELERY_KEY_PREFIX": "bench_mirror:",
    "CACHE_KEY_PREFIX": "bench_mirror",
    "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
    "CACHE_MIN_COMPUTE_MS": "25",  # the production default (test settings cache everything)
    "SYNC_ENQUEUE_ON_COMMIT": "1",  # as in production (test settings leave publishing to the tests)
}


def bench_url(base: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(base)
    return parts._replace(path=parts.path.rstrip("/") + "_mirror_bench").geturl()


def setup(url: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "scripts/devservices.py"), "ensure-database"],
                   env={**os.environ, "DATABASE_URL": url}, check=True)  # fmt: skip
    os.environ["DATABASE_URL"] = url
    for name, value in ENV.items():
        os.environ.setdefault(name, value)
    import django

    django.setup()
    from django.core.management import call_command

    from personalpod import dynamo

    call_command("migrate", verbosity=0)
    dynamo.wait_until_reachable(30)
    dynamo.create_tables()


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
        "n": len(ordered),
    }


def timed(fn: Any, repeats: int = REPEATS, before: Any = None) -> list[float]:
    fn()  # warm
    samples = []
    for _ in range(repeats):
        if before:
            before()
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def user(name: str) -> Any:
    from accounts.models import User
    from accounts.services import create_user

    found = User.objects.filter(username=name).first()
    return found or create_user(f"{name}@example.com", name, None)


# --- caches ----------------------------------------------------------------------------


def sized_user(size: int) -> Any:
    """A user with SIZE entries over 6 types and 4 statuses, 12 categories in two levels
    and 40 tags (0-3 an entry); built once with COPY, triggers off."""
    from django.db import connection

    from entries.models import Category, Entry, Tag

    owner = user(f"mirror-size-{size}")
    if Entry.objects.filter(owner=owner).count() == size:
        return owner
    print(f"building a user with {size:,} entries (once) ...", flush=True)
    rng = random.Random(SEED + size)
    with connection.cursor() as cursor:  # triggers off, as when it was built
        cursor.execute("SET session_replication_role = replica")
        for sql in (
            "DELETE FROM entries_entrytag WHERE entry_id IN (SELECT id FROM entries_entry WHERE owner_id = %s)",
            "DELETE FROM entries_change WHERE user_id = %s",
            "DELETE FROM entries_entryversion WHERE entry_id IN (SELECT id FROM entries_entry WHERE owner_id = %s)",
            "DELETE FROM entries_entry WHERE owner_id = %s",
            "DELETE FROM entries_tag WHERE owner_id = %s",
            "DELETE FROM entries_category WHERE owner_id = %s AND NOT is_system",
        ):
            cursor.execute(sql, [owner.id])
        cursor.execute("SET session_replication_role = origin")
    parents = list(Category.objects.filter(owner=owner))
    children = [
        Category.objects.create(owner=owner, name=f"Sub {n}", parent=parents[n % len(parents)], depth=1)
        for n in range(12 - len(parents))
    ]
    categories = [c.id for c in parents + children]
    tags = [Tag.objects.create(owner=owner, name=f"tag {n}").id for n in range(40)]
    types = ["note", "password", "document", "bookmark", "task", "contact"]
    statuses = ["active"] * 16 + ["archived", "archived", "deleted", "draft"]
    now = datetime.now(tz=UTC)
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        ids = []
        with cursor.copy(
            "COPY entries_entry (id, owner_id, type, title, content, fields, is_sensitive, status, category_id,"
            " keywords, version, created_at, updated_at) FROM STDIN"
        ) as copy:
            for n in range(size):
                entry_id = uuid.uuid4()
                ids.append(entry_id)
                stamp = now - timedelta(minutes=rng.randint(0, 500_000))
                copy.write_row((entry_id, owner.id, rng.choice(types), f"Entry {n}", "text " * 20, "{}", False,
                                rng.choice(statuses), rng.choice(categories), "{}", 1, stamp, stamp))  # fmt: skip
        with cursor.copy("COPY entries_entrytag (id, entry_id, tag_id) FROM STDIN") as copy:
            for entry_id in ids:
                for tag_id in rng.sample(tags, rng.randint(0, 3)):
                    copy.write_row((uuid.uuid4(), entry_id, tag_id))
        cursor.execute("SET session_replication_role = origin")
        cursor.execute("ANALYZE entries_entry")
        cursor.execute("ANALYZE entries_entrytag")
    return owner


def measure_caches() -> dict[str, Any]:
    from django.db.models import F

    from accounts.models import User
    from entries import overview
    from personalpod import cache

    # Each candidate with its cache key, as the selectors in entries/overview.py key them.
    candidates = {
        "statistics": (lambda owner_id: "", overview._compute_statistics),
        "category_tree": (overview._categories_version, overview._compute_category_tree),
        "recent": (lambda owner_id: "", overview._compute_recent),
    }
    results: dict[str, Any] = {}
    for size in SIZES:
        owner = sized_user(size)
        for cache_type, (key_for, compute) in candidates.items():

            def bump(owner: Any = owner) -> None:
                User.objects.filter(id=owner.id).update(change_seq=F("change_seq") + 1)

            def read(
                owner: Any = owner, cache_type: str = cache_type, key_for: Any = key_for, compute: Any = compute
            ) -> Any:
                return cache.cached(owner, f"bench_{cache_type}", key_for(owner.id), lambda: compute(owner.id))

            def stored(
                owner: Any = owner, cache_type: str = cache_type, key_for: Any = key_for, compute: Any = compute
            ) -> None:
                version = cache.current_version(owner.id)
                cache.store(owner.id, f"bench_{cache_type}", key_for(owner.id), version, compute(owner.id))

            floor = percentiles(timed(lambda owner=owner, compute=compute: compute(owner.id)))
            stored()  # a hit, whatever the threshold
            hit = percentiles(timed(read))
            # A miss as it runs in production: stored only if it took CACHE_MIN_COMPUTE_MS.
            miss = percentiles(timed(read, before=bump))
            results[f"{cache_type}/{size}"] = {
                "cache_type": cache_type,
                "entries": size,
                "compute": floor,
                "hit": hit,
                "miss": miss,
                "saving": round(floor["p50_ms"] / hit["p50_ms"], 2),
            }
            print(f"{cache_type:>14} {size:>7,}: compute {floor['p50_ms']} ms, hit {hit['p50_ms']} ms, "
                  f"miss {miss['p50_ms']} ms", flush=True)  # fmt: skip
    return results


# --- throughput ------------------------------------------------------------------------


def _unpublished_changes(owner: Any, count: int) -> None:
    from django.db.models import F

    from accounts.models import User
    from entries.models import Change

    Change.objects.filter(user=owner).delete()
    User.objects.filter(id=owner.id).update(change_seq=0)
    now = datetime.now(tz=UTC)
    Change.objects.bulk_create(
        Change(user=owner, seq=n, entry_id=uuid.uuid4(), operation="update", entry_version=2,
               created_at=now + timedelta(microseconds=n))
        for n in range(1, count + 1)
    )  # fmt: skip
    User.objects.filter(id=owner.id).update(change_seq=F("change_seq") + count)


def measure_throughput() -> dict[str, Any]:
    from accounts.sessions import device_id_for
    from personalpod import dynamo
    from sync.devices import register_device
    from sync.dynamo import SyncQueueItem
    from sync.publisher import publish_changes

    owner = user("mirror-throughput")
    for name in ("Laptop", "Phone"):
        register_device(user=owner, device_id=device_id_for(owner.id, name), name=name)
    from sync.models import Device

    Device.objects.filter(owner=owner).update(registered_seq=0, last_pulled_seq=0)
    runs = []
    for _ in range(3):
        _unpublished_changes(owner, THROUGHPUT_CHANGES)
        started = time.perf_counter()
        assert publish_changes(user_id=owner.id) == THROUGHPUT_CHANGES
        runs.append(time.perf_counter() - started)
    items = THROUGHPUT_CHANGES * 2

    # The floor: the same number of items of the same shape, by a bare boto3 loop.
    client = dynamo.client()
    table = SyncQueueItem.Meta.table_name
    floor_runs = []
    for run in range(3):
        requests = []
        for n in range(items):
            requests.append({"PutRequest": {"Item": {
                "pk": {"S": f"USER#floor-{run}"}, "sk": {"S": f"TIMESTAMP#2026-01-01T00:00:00.{n:06d}Z#{n:012d}:d"},
                "device_key": {"S": "DEVICE#floor"}, "status": {"S": "pending"}, "seq": {"N": str(n)},
                "entry_id": {"S": str(uuid.uuid4())}, "operation": {"S": "update"}, "entry_version": {"N": "2"},
                "attempts": {"N": "0"}, "expires_at": {"N": str(int(time.time()) + 86400)},
            }}})  # fmt: skip
        started = time.perf_counter()
        for start in range(0, items, 25):
            pending = {table: requests[start : start + 25]}
            while pending:
                pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        floor_runs.append(time.perf_counter() - started)
    publish_rate = items / statistics.median(runs)
    floor_rate = items / statistics.median(floor_runs)
    return {
        "changes": THROUGHPUT_CHANGES,
        "items": items,
        "publish_seconds": [round(r, 3) for r in runs],
        "floor_seconds": [round(r, 3) for r in floor_runs],
        "publish_items_per_s": round(publish_rate),
        "floor_items_per_s": round(floor_rate),
        "ratio": round(publish_rate / floor_rate, 2),
    }


# --- latency under load ----------------------------------------------------------------


def measure_latency(rate: float, seconds: float) -> dict[str, Any]:
    from django.conf import settings
    from django.db import connection

    from accounts.sessions import device_id_for
    from entries.models import Change
    from entries.services.entries import create_entry
    from personalpod.celery import app
    from sync.devices import register_device

    run_id = uuid.uuid4().hex[:8]
    writers = [user(f"mirror-rate-{run_id}-{n}") for n in range(WRITERS)]
    for owner in writers:
        for name in ("Laptop", "Phone"):
            register_device(user=owner, device_id=device_id_for(owner.id, name), name=name)
    log = (ROOT / ".data" / "bench-mirror-worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "--app", "personalpod", "worker", "--loglevel", os.environ.get("BENCH_WORKER_LOGLEVEL", "WARNING"),
         "--concurrency", str(WORKER_PROCESSES), "--hostname", f"bench-{run_id}@%h", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": os.environ["DATABASE_URL"]}, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the Celery worker did not start; see .data/bench-mirror-worker.log")
        total = int(rate * seconds)
        print(f"writing {total:,} entries at {rate:g}/s from {THREADS} threads ...", flush=True)
        started = time.perf_counter()
        late = [0] * THREADS

        def write(thread: int) -> None:
            # Like web workers: each thread its own connection, the writes on one schedule.
            try:
                for n in range(thread, total, THREADS):
                    wait = started + n / rate - time.perf_counter()
                    if wait > 0:
                        time.sleep(wait)
                    else:
                        late[thread] += 1
                    create_entry(actor=writers[n % WRITERS], type="note", title=f"Load {n}")
            finally:
                connection.close()

        threads = [threading.Thread(target=write, args=(t,)) for t in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        changes = Change.objects.filter(user__in=writers)
        deadline = time.monotonic() + 120
        while changes.filter(published_at__isnull=True).exists():
            if time.monotonic() > deadline:
                raise RuntimeError("changes still unpublished two minutes after the load")
            time.sleep(0.5)
        latencies = [
            (published - created).total_seconds()
            for created, published in changes.values_list("created_at", "published_at")
        ]
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()
    return {
        "writes": total,
        "target_rate": rate,
        "seconds": seconds,
        "load_average": round(os.getloadavg()[0], 2),
        "achieved_rate": round(total / elapsed, 1),
        "late_writes": sum(late),
        "writer_threads": THREADS,
        "worker_processes": WORKER_PROCESSES,
        "batch_size": settings.SYNC_PUBLISH_BATCH_SIZE,
        "latency": percentiles(latencies),
    }


# --- report ----------------------------------------------------------------------------


def write_report(latencies: list[dict[str, Any]], throughput: dict[str, Any], caches: dict[str, Any]) -> None:
    load = os.getloadavg()
    stamp = datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    data = {"run_at": stamp, "load_average": [round(x, 2) for x in load], "latency": latencies,
            "throughput": throughput, "caches": caches}  # fmt: skip
    out = ROOT / "docs" / "benchmarks"
    out.mkdir(parents=True, exist_ok=True)
    (out / "mirror.json").write_text(json.dumps(data, indent=2) + "\n")
    met = lambda ok: "**met**" if ok else "**not met**"  # noqa: E731
    first = latencies[0]
    lines = [
        "# Mirror benchmark",
        "",
        f"Last run: {stamp}, load average {load[0]:.2f} on this project's 2-core machine (shared with other work).",
        "Regenerate with `make bench-mirror`; the numbers are also in `mirror.json`.",
        "",
        "## Change to queue item under load",
        "",
        f"Writes through the write path (`create_entry`) over {WRITERS} users with 2 devices each, from "
        f"{first['writer_threads']} writer threads in one process; a Celery worker with "
        f"{first['worker_processes']} processes publishes. Latency = `published_at` - `created_at` of each change "
        "(items written, minus the time its transaction recorded it).",
        "",
        "| target rate | seconds | achieved rate | p50 | p95 | max | load average | p95 < 250 ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in latencies:
        lat = run["latency"]
        lines.append(
            f"| {run['target_rate']:g}/s | {run['seconds']:g} | {run['achieved_rate']:g}/s | {lat['p50_ms']} ms | "
            f"{lat['p95_ms']} ms | {lat['max_ms']} ms | {run['load_average']} | {met(lat['p95_ms'] < 250)} |"
        )
    for run in latencies:
        if run["achieved_rate"] < 0.9 * run["target_rate"]:
            lines += [
                "",
                f"At {run['target_rate']:g}/s the writers fell behind their schedule (achieved "
                f"{run['achieved_rate']:g}/s): writers, worker, PostgreSQL and DynamoDB Local share 2 cores, with a "
                f"load average of {run['load_average']} during the run, so the latency there is mostly waiting for CPU.",
            ]
    lines += [
        "",
        "## Publish throughput",
        "",
        f"{throughput['changes']:,} unpublished changes for 2 devices ({throughput['items']:,} queue items), "
        "median of 3 runs.",
        "",
        "| | items/s | seconds (3 runs) |",
        "|---|---|---|",
        f"| publish_changes (row locks, items, marks; batches of {first['batch_size']}) | {throughput['publish_items_per_s']:,} | "
        f"{throughput['publish_seconds']} |",
        f"| floor: bare BatchWriteItem loop (boto3) | {throughput['floor_items_per_s']:,} | "
        f"{throughput['floor_seconds']} |",
        "",
        f"Ratio {throughput['ratio']} (target at least 0.5: {met(throughput['ratio'] >= 0.5)}).",
        "",
        "## Cache hit against the PostgreSQL reads it replaces (p50 / p95 ms)",
        "",
        "| cache | entries | compute (PostgreSQL) | hit | miss | compute / hit |",
        "|---|---|---|---|---|---|",
    ]
    for row in caches.values():
        c, h, m = row["compute"], row["hit"], row["miss"]
        lines.append(
            f"| {row['cache_type']} | {row['entries']:,} | {c['p50_ms']} / {c['p95_ms']} | {h['p50_ms']} / "
            f"{h['p95_ms']} | {m['p50_ms']} / {m['p95_ms']} | {row['saving']} |"
        )
    lines += [
        "",
        "A hit is the change_seq read, the Redis marker and a DynamoDB Local GetItem (for the tree also the",
        "categories' version query); a miss, as it runs, is the same plus the compute and, when the compute took",
        "three hits' cost (and `CACHE_MIN_COMPUTE_MS`) or more, the PutItem. Verdict per candidate (a hit at least 3x cheaper):",
        "",
    ]
    for cache_type in sorted({row["cache_type"] for row in caches.values()}):
        rows = [row for row in caches.values() if row["cache_type"] == cache_type]
        earning = [row["entries"] for row in rows if row["saving"] >= 3]
        verdict = f"earns it from {min(earning):,} entries" if earning else "never earns it"
        savings = ", ".join(f"{row['saving']}x" for row in rows)
        lines.append(f"- `{cache_type}`: {verdict} ({savings}).")
    lines += [
        "",
        "What the product does with this: `entries.overview.statistics` and `category_tree_counts` read through",
        "`personalpod.cache.cached`, which stores a value only when computing it took at least three times what a",
        "hit has cost in that process (and at least `CACHE_MIN_COMPUTE_MS`, 25 ms), so small vaults are answered",
        "from PostgreSQL and large ones from the cache, and the publisher refreshes only those. `recent_entries` is",
        "not cached: its query reads a few index rows per status at any size.",
    ]
    (out / "mirror.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def run() -> None:
    base = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/personalpod")
    setup(bench_url(base))
    caches = measure_caches()
    throughput = measure_throughput()
    print(f"throughput: {throughput}", flush=True)
    latencies = []
    # The load, then one this machine sustains: where the time goes when it is not saturated.
    for rate, seconds in ((RATE, SECONDS), (LIGHT_RATE, min(SECONDS, 20.0))):
        latencies.append(measure_latency(rate, seconds))
        print(f"latency: {latencies[-1]}", flush=True)
    write_report(latencies, throughput, caches)


if __name__ == "__main__":
    run()
