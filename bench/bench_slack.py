"""Slack app benchmark: signed events at concurrency 20 against the HTTP server (uvicorn + Bolt's ASGI
adapter), answered into a loopback Slack Web API. Fixit (`python -m bot serve --http`, the production
command) and a bare Bolt app that posts a fixed reply run one after the other in the same run, each in
its own process, against the same load generator and fake Slack, so the table compares like with like.

    python bench/bench_slack.py [--events 400] [--concurrency 20]

Concurrency N means N people pasting at once, each waiting for the answer in the thread before pasting
again (a closed loop, like `hey -c N`). Prints events/s (first paste sent → last answer received) and
p50/p99 time from sending an event to its answer arriving at the fake Slack.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from slack_bolt import App  # noqa: E402
from slack_harness import SECRET, FakeSlack, SlackSender, free_port, message  # noqa: E402

from bot.settings import Settings  # noqa: E402
from bot.slack.app import build_client  # noqa: E402


def bare_app(settings: Settings) -> App:
    """The smallest Bolt app that answers every message: ack, then post a fixed reply in the thread."""
    app = App(signing_secret=settings.signing_secret, client=build_client(settings))

    def ack_now(ack):
        ack()

    def reply(event, client):
        client.chat_postMessage(channel=event["channel"], thread_ts=event["ts"], text="Fixed reply.",
                                unfurl_links=False)

    app.event("message")(ack=ack_now, lazy=[reply])
    return app


def pastes(n: int) -> list[str]:
    """Dev-set pastes that Fixit answers with exactly one card (so every event expects one post)."""
    from bot.pipeline import Fixit

    matcher = Fixit.from_directory().matcher
    rows = [json.loads(line) for line in (ROOT / "tests/data/devset_generated.jsonl").read_text().splitlines()]
    texts = [r["text"] for r in rows if len(matcher.match(r["text"]).answers) == 1]
    return [texts[i % len(texts)] for i in range(n)]


def start_server(command: list[str], env: dict, port: int) -> subprocess.Popen:
    process = subprocess.Popen(command, env={**os.environ, **env}, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stderr.read().decode()[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start")


def run(name: str, command: list[str], env: dict, fake: FakeSlack, texts: list[str], concurrency: int) -> dict:
    port = free_port()
    process = start_server([*command, "--port", str(port)], env, port)
    sender = SlackSender(f"http://127.0.0.1:{port}/slack/events")
    try:
        warm = [message(t, ts=f"1800000000.{i:06d}") for i, t in enumerate(texts[:20])]
        for event in warm:
            sender.event(event)
        fake.wait_for("chat.postMessage", len(warm), timeout=60)
        fake.reset()
        events = [message(t, ts=f"1800000001.{i:06d}", channel=f"CB{i % 50}") for i, t in enumerate(texts)]
        sent: dict[str, float] = {}

        def converse(event: dict) -> int:
            """One of `concurrency` people: paste, wait for the answer in the thread, then the next paste."""
            answered = fake.expect_answer(event["ts"])
            sent[event["ts"]] = time.perf_counter()
            status = sender.event(event)[0]
            answered.wait(timeout=60)
            return status

        start = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            statuses = list(pool.map(converse, events))
        posts = fake.wait_for("chat.postMessage", len(events), timeout=120)
        end = max(p.at for p in posts)
        latencies = sorted((p.at - sent[p.args["thread_ts"]]) * 1000 for p in posts if p.args["thread_ts"] in sent)
        return {"app": name, "events": len(events), "ok": statuses.count(200),
                "events_per_s": len(events) / (end - start),
                "p50_ms": statistics.median(latencies), "p99_ms": latencies[max(int(len(latencies) * 0.99) - 1, 0)]}
    finally:
        process.terminate()
        process.wait(timeout=10)
        fake.reset()


def bare_asgi():
    from slack_bolt.adapter.asgi import SlackRequestHandler

    return SlackRequestHandler(bare_app(Settings.load(env_file=None)))


def serve_bare(port: int, workers: int) -> None:
    import uvicorn

    sys.path.insert(0, str(Path(__file__).parent))
    uvicorn.run("bench_slack:bare_asgi", factory=True, host="127.0.0.1", port=port, workers=workers,
                log_level="warning")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes for both apps")
    parser.add_argument("--repeat", type=int, default=1, help="run the pair this many times (median ratio)")
    parser.add_argument("--serve-bare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.port, args.workers)
        return
    fake = FakeSlack()
    texts = pastes(args.events)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {"SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.api_url,
               "FIXIT_DATABASE_URL": f"sqlite:///{tmp}/bench.db", "SLACK_APP_TOKEN": ""}
        workers = ["--workers", str(args.workers)]
        for n in range(args.repeat):  # alternate the two apps, so drift on the machine hits both alike
            env["FIXIT_DATABASE_URL"] = f"sqlite:///{tmp}/bench-{n}.db"  # a fresh store: no thread answered yet
            rows.append(run("bare Bolt app", [sys.executable, __file__, "--serve-bare", *workers], env, fake,
                            texts, args.concurrency))
            rows.append(run("Fixit", [sys.executable, "-m", "bot", "serve", "--http", "--host", "127.0.0.1",
                                      *workers], env, fake, texts, args.concurrency))
    fake.close()
    print(f"{args.events} signed message events, concurrency {args.concurrency}; each app served by uvicorn "
          f"with {args.workers} worker process(es); load generator and loopback Slack in this process")
    print("| app | events | HTTP 200 | events/s | p50 ms to answer | p99 ms to answer |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['app']} | {r['events']} | {r['ok']} | {r['events_per_s']:.0f} | {r['p50_ms']:.1f} "
              f"| {r['p99_ms']:.1f} |")
    ratios = sorted(f["events_per_s"] / b["events_per_s"] for b, f in zip(rows[::2], rows[1::2], strict=True))
    print(f"Fixit / bare throughput: {statistics.median(ratios):.2f} (median of {len(ratios)}: "
          f"{', '.join(f'{r:.2f}' for r in ratios)})")


if __name__ == "__main__":
    main()
