"""What each part of Fixit's answer to a paste costs, in instructions (valgrind callgrind): matching, the
store's claim, building the card's blocks, and posting the card compared with posting one line of text.

    python bench/bench_parts.py [--events 300]

Each part runs `--events` times on the Slack benchmark's pastes, in this process, after a warm-up; the
loopback Slack answering the posts runs in another process, so its work is not counted. Instruction counts
do not drift with the machine's speed the way timings do; they leave out the kernel's work and cache misses.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

WARM_UP = 30


def loopback_slack() -> tuple[subprocess.Popen, str]:
    code = ("import sys, time; sys.path.insert(0, 'tests'); from slack_harness import FakeSlack; "
            "print(FakeSlack().api_url, flush=True); time.sleep(86400)")
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    return process, process.stdout.readline().strip()


def measure(events: int) -> None:
    """Runs under callgrind: counts each part, one dump per part (named after it)."""
    from bench_slack import callgrind, pastes, stock_client

    from bot.answer import Answerer, Where
    from bot.pipeline import Fixit
    from bot.settings import Settings
    from bot.slack.app import build_client
    from bot.slack.cards import answer_blocks
    from bot.slack.deliver import Delivery
    from bot.slack.transport import KeptConnections
    from bot.store import Store

    slack, api_url = loopback_slack()
    try:
        texts = pastes(events)
        fixit = Fixit.from_directory().prerendered()
        settings = replace(Settings.load(env_file=None), api_url=api_url, bot_token="xoxb-bench")
        client = build_client(settings)
        stock = stock_client(settings)
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(f"sqlite:///{tmp}/bench.db")
            answerer = Answerer(lambda: fixit, store, settings)
            delivery = Delivery(answerer, KeptConnections())
            where = Where("C1", "1700000000.000100")
            replies = [fixit.reply(t) for t in texts]
            cards = [answerer.card(r.match.answers[0].entry_id, r.cards[0]) for r in replies]
            blocks = [answer_blocks(card, where) for card in cards]
            run = f"{time.time():.0f}"
            parts = {
                "matching a paste": lambda i: fixit.matcher.match(texts[i]),
                "the store's claim (event id, thread)": lambda i: store.claim_event(
                    f"Ev{run}{i}", "C1", f"{run}.{i:06d}", replies[i].match.answer_ids),
                "building the card's blocks": lambda i: answer_blocks(
                    answerer.card(replies[i].match.answers[0].entry_id, replies[i].cards[0]), where),
                "posting the card": lambda i: delivery.post(client, where, blocks[i], replies[i].cards[0].fallback),
                "posting one line through Fixit's kept connection": lambda i: client.chat_postMessage(
                    channel="C1", thread_ts=where.thread_ts, text="Fixed reply.", unfurl_links=False),
                "posting one line with the stock client (the bare app's reply)": lambda i: stock.chat_postMessage(
                    channel="C1", thread_ts=where.thread_ts, text="Fixed reply.", unfurl_links=False),
            }
            me = os.getpid()
            for n, (name, part) in enumerate(parts.items()):
                for i in range(WARM_UP):
                    part(i)
                callgrind(me, "--instr=on")
                callgrind(me, "--zero")
                for i in range(events):
                    part(i)
                callgrind(me, f"--dump=part{n}")
                callgrind(me, "--instr=off")
                print(name, flush=True)
            store.engine.dispose()
    finally:
        slack.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.events)
        return
    from bench_slack import callgrind_command, dump_total, require_valgrind

    require_valgrind("bench_parts")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        done = subprocess.run([*callgrind_command(out), sys.executable, __file__, "--measure", "--events",
                               str(args.events)], cwd=ROOT, capture_output=True, text=True)
        names = done.stdout.split("\n")[:-1]
        if done.returncode or not names:
            raise SystemExit(f"measuring failed:\n{done.stderr[-3000:]}")
        counts = {}  # part number -> instructions, from each dump's "desc: Trigger: ... part<N>" line
        for dump in out.parent.glob(out.name + ".*[0-9]"):
            trigger = next((line for line in dump.read_text(errors="replace").splitlines()
                            if line.startswith("desc: Trigger")), "")
            if "part" in trigger:
                counts[int(trigger.rsplit("part", 1)[1])] = dump_total(dump)
    print(f"Instructions per call (valgrind callgrind), {args.events} Slack-benchmark pastes, in one process")
    print("| part | M instructions |")
    print("|---|---:|")
    for n, name in enumerate(names):
        print(f"| {name} | {counts[n] / args.events / 1e6:.3f} |")


if __name__ == "__main__":
    main()
