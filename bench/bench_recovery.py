"""How long a recovery holds the store: what a process remembered while its database was down (event ids and
claims, MAX_REMEMBERED of each, as after a long outage under load) written into the database, as the recovery
does it (`Store.write_remembered`, one transaction) and row by row (one transaction per event and per claim,
as the recovery did before). Answers wait on the store's lock meanwhile.

    python bench/bench_recovery.py [--n 5000] [--url postgresql+psycopg://…]

SQLite always (a new file); PostgreSQL too when `--url` or FIXIT_TEST_POSTGRES_URL names one (its tables are
dropped and made again: give it a database of its own). Each way is timed into an empty database and then
again with every row already there (a recovery after a short outage, where most of the memory was written
before it began).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine  # noqa: E402

from bot.store import Store, metadata  # noqa: E402
from bot.store.resilient import MAX_REMEMBERED  # noqa: E402


def remembered(n: int, run: str):
    seen = [(f"Ev{run}{i:08d}", time.time()) for i in range(n)]
    claims = [("C0123456", f"1700000000.{i:06d}", "INT771", "T0123") for i in range(n)]
    notices = [f"escalated:C0123456:1700000000.{i:06d}" for i in range(n // 100)]
    return seen, claims, notices


def together(store: Store, seen, claims, notices) -> None:
    store.write_remembered(seen, claims, notices)


def row_by_row(store: Store, seen, claims, notices) -> None:
    for event_id, _at in seen:
        store.first_delivery(event_id)
    for channel, thread_ts, entry_id, team in claims:
        store.claim_answer(channel, thread_ts, entry_id, team)
    for key in notices:
        store.notify_once(key)


def timed(database, n: int) -> dict[str, tuple[float, float]]:
    """`database(way)`: the URL to time that way in (a database of its own for each, or one emptied first)."""
    figures = {}
    for name, write in (("one transaction", together), ("row by row", row_by_row)):
        url = database(name.replace(" ", "-"))
        if not url.startswith("sqlite"):
            metadata.drop_all(create_engine(url))
        store = Store(url)
        memory = remembered(n, name[:3])
        started = time.perf_counter()
        write(store, *memory)
        empty = time.perf_counter() - started
        started = time.perf_counter()
        write(store, *memory)
        figures[name] = (empty, time.perf_counter() - started)
        store.engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=MAX_REMEMBERED, help="event ids and claims remembered")
    parser.add_argument("--url", default=os.environ.get("FIXIT_TEST_POSTGRES_URL", ""),
                        help="a PostgreSQL database to time as well")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        backends = [("SQLite", lambda name: f"sqlite:///{tmp}/{name}.db")]
        if args.url:
            backends.append(("PostgreSQL", lambda _name: args.url))
        print(f"Writing {args.n} event ids, {args.n} claims and {args.n // 100} notices remembered, seconds")
        print("| backend | way | into an empty database | with every row there |")
        print("|---|---|---:|---:|")
        for backend, url in backends:
            for name, (empty, again) in timed(url, args.n).items():
                print(f"| {backend} | {name} | {empty:.3f} | {again:.3f} |")


if __name__ == "__main__":
    main()
