"""A/B of two Fixit servers: two builds, or one build under two settings, served at once and taking turns in
blocks (ABBA) against one load generator and fake Slack, so the box's drift hits both alike.

    python bench/bench_ab.py [--blocks 8] [--events 300] [--concurrency 20] [--plain]
                             [--a-env NAME=VALUE,...] [--b-env ...] [--a-tree DIR] [--b-tree DIR]

Each server has a SQLite file of its own unless its settings name a `FIXIT_DATABASE_URL` (to compare
PostgreSQL with SQLite, say). `--a-tree DIR` serves A from another checkout (e.g. `git worktree add
/tmp/before <commit>`): its `bot` package is imported instead of this one's. Prints each server's events/s
(median block), p50/p99 and CPU per event, and the median of the block-pair ratios B/A. The server started
second has run slower in several pairs, so an A/B is worth running in both orders. Over HTTPS unless `--plain`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_slack as bench  # noqa: E402 - after the path it is found on
from slack_harness import SlackSender, free_port  # noqa: E402


def settings_of(text: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in text.split(",") if pair)


def tree_env(tree: str) -> dict[str, str]:
    """A server importing `tree`'s `bot` (the benchmark starts servers in this checkout: without
    PYTHONSAFEPATH, the working directory would come first on the path)."""
    return {"PYTHONSAFEPATH": "1", "PYTHONPATH": str(Path(tree).resolve())} if tree else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blocks", type=int, default=8, help="blocks per server")
    parser.add_argument("--events", type=int, default=300, help="events per block")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--plain", action="store_true", help="the fake Slack over plain HTTP")
    for side in ("a", "b"):
        parser.add_argument(f"--{side}-env", default="", metavar="NAME=VALUE,...")
        parser.add_argument(f"--{side}-tree", default="", metavar="DIR")
    args = parser.parse_args()
    sides = {"A": {**tree_env(args.a_tree), **settings_of(args.a_env)},
             "B": {**tree_env(args.b_tree), **settings_of(args.b_env)}}
    texts = bench.pastes(args.events * args.blocks * 2)
    with tempfile.TemporaryDirectory() as tmp:
        fake, trust = bench.loopback_slack(not args.plain, tmp)
        apps = []
        try:
            for name, env in sides.items():
                own_file = {"FIXIT_DATABASE_URL": f"sqlite:///{tmp}/{name}.db"}
                env = {**bench.server_env(fake, tmp), **trust, **own_file, **env}
                port = free_port()
                process = bench.start_server(bench.server_commands(1)["Fixit"], env, port)
                apps.append(bench.AppUnderTest(name, process, SlackSender(f"http://127.0.0.1:{port}/slack/events")))
            ratios = bench.take_turns(apps, fake, texts, args.blocks, args.events, args.concurrency)
        finally:
            for app in apps:
                app.process.terminate()
                app.process.wait(timeout=10)
            fake.close()
    print(f"Fixit A/B over {'plain HTTP' if args.plain else 'HTTPS'}; {args.blocks} blocks of {args.events} events "
          f"per server (ABBA), concurrency {args.concurrency}")
    print("| server | settings | events/s (median block) | p50 ms | p99 ms | server CPU ms/event |")
    print("|---|---|---:|---:|---:|---:|")
    for app in apps:
        latencies = [ms for block in app.blocks for ms in block.latencies]
        settings = ", ".join(f"{k}={v}" for k, v in sides[app.name].items()) or "as built"
        print(f"| {app.name} | {settings} | {statistics.median(b.rate for b in app.blocks):.0f} | "
              f"{bench.percentile(latencies, 0.5):.1f} | {bench.percentile(latencies, 0.99):.1f} | "
              f"{app.total('server_cpu') / app.total('events') * 1000:.2f} |")
    print(f"B / A events/s: {statistics.median(ratios):.2f} (median of {len(ratios)} block pairs; "
          f"range {min(ratios):.2f}-{max(ratios):.2f})")


if __name__ == "__main__":
    main()
