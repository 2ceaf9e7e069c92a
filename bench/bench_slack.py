"""Slack app benchmark: signed events at concurrency 20 against the HTTP server (uvicorn + Bolt's ASGI
adapter), answered into a loopback Slack Web API. Fixit (`python -m bot serve --http`, the production
command) and a bare Bolt app that posts a fixed reply are both served, each in its own process, and take
turns in short blocks against the same load generator and fake Slack, so the table compares like with like.

    python bench/bench_slack.py [--events 300] [--blocks 6] [--concurrency 20] [--workers 1]
    python bench/bench_slack.py --instructions [--events 300]
    python bench/bench_slack.py --rss 20000 [--rss-warm-up 200] [--rss-bare]

Concurrency N means N people pasting at once, each waiting for the answer in the thread before pasting
again (a closed loop, like `hey -c N`). Prints events/s (first paste sent → last answer received, the
median over an app's blocks), p50/p99 time from sending an event to its answer arriving at the fake Slack,
the CPU each server and this process spent per event (Linux), and the median of the block-pair ratios.

`--instructions` counts instead of timing: each server runs under valgrind's callgrind, and the instructions
it executes in user space per event (all its threads) are counted over `--events` events at the same
concurrency. The count is the same from run to run whatever else the machine is doing, so it shows what a
change costs where timings drift; it leaves out the kernel's work and cache misses, which timings include.

`--rss N` serves one app alone (Fixit, or the anchor with `--rss-bare`) and prints its resident memory every
1 000 events over N events, counted after `--rss-warm-up` events, with the growth per 1 000 events.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from slack_bolt import App  # noqa: E402
from slack_harness import SECRET, FakeSlack, SlackSender, free_port, message  # noqa: E402
from slack_sdk import WebClient  # noqa: E402
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler  # noqa: E402

from bot.settings import Settings  # noqa: E402
from bot.slack.app import api_logger  # noqa: E402


def stock_client(settings: Settings) -> WebClient:
    """slack_sdk's stock client, as the anchor has always had it (Fixit's own client is not the anchor's)."""
    client = WebClient(token=settings.bot_token, base_url=settings.api_url, timeout=10, logger=api_logger())
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=3))
    return client


def bare_app(settings: Settings) -> App:
    """The smallest Bolt app that answers every message: ack, then post a fixed reply in the thread. This is
    the anchor: it stays as it is, whatever Fixit does."""
    app = App(signing_secret=settings.signing_secret, client=stock_client(settings))

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


def start_server(command: list[str], env: dict, port: int, cpus: set[int] | None = None,
                 timeout: float = 60) -> subprocess.Popen:
    pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
    process = subprocess.Popen([*command, "--port", str(port)], env={**os.environ, **env}, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=pin)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stderr.read().decode()[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start")


def require_valgrind(what: str) -> None:
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        raise SystemExit(f"{what} needs valgrind (Debian: apt-get install valgrind)")


def callgrind_command(out: Path) -> list[str]:
    """valgrind's callgrind, not yet counting: what it runs starts at about native speed (--instr-atstart=no)
    until `callgrind(pid, "--instr=on")`; each `--dump` writes `out`.N."""
    return ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
            f"--log-file={out}.log", "--dump-line=no", "--dump-instr=no"]


def callgrind(pid: int, *command: str) -> None:
    done = subprocess.run(["callgrind_control", *command, str(pid)], capture_output=True, text=True, timeout=600)
    if done.returncode:
        raise RuntimeError(f"callgrind_control {' '.join(command)} failed: {done.stderr or done.stdout}")


def dump_total(dump: Path) -> int:
    """The instructions a callgrind dump counted."""
    for line in dump.read_text(errors="replace").splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise RuntimeError(f"no totals in {dump}")


def instructions_per_event(app: AppUnderTest, fake: FakeSlack, texts: list[str], concurrency: int,
                           out: Path) -> float:
    """Millions of instructions the server executes per event, counted by callgrind."""
    pid = app.process.pid
    drive(app, fake, texts[:60], concurrency, "1700000000")  # imports, first requests: not counted
    callgrind(pid, "--instr=on")
    drive(app, fake, texts[60:100], concurrency, "1700000001")  # callgrind translates the code it meets first
    callgrind(pid, "--zero")
    events = texts[100:]
    drive(app, fake, events, concurrency, "1800000000")
    callgrind(pid, "--dump=bench")
    dumps = sorted(out.parent.glob(out.name + ".*[0-9]"), key=lambda p: p.stat().st_mtime)
    return dump_total(dumps[-1]) / len(events) / 1e6


def cpu_seconds(pid: int, children: bool = True) -> float:
    """User + system CPU so far of a process, and of its child processes (uvicorn's workers) if asked
    (Linux /proc; 0 elsewhere)."""
    try:
        pids = [pid]
        if children:
            pids += map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())
        total = 0
        for p in pids:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        return 0.0


@dataclass
class Block:
    """What one run of events against one app measured."""

    events: int
    ok: int
    rate: float                # events/s, first paste sent → last answer received
    latencies: list[float]     # ms from sending each event to its answer arriving
    server_cpu: float          # CPU seconds the app's server used meanwhile
    harness_cpu: float         # ... and this process (load generator and fake Slack)


@dataclass
class AppUnderTest:
    """One app under test: its server process, where it listens, and its measured blocks."""

    name: str
    process: subprocess.Popen
    sender: SlackSender
    blocks: list[Block] = field(default_factory=list)

    def total(self, what: str) -> float:
        return sum(getattr(b, what) for b in self.blocks)


def drive(app: AppUnderTest, fake: FakeSlack, texts: list[str], concurrency: int, ts_prefix: str) -> Block:
    """Send `texts` as signed message events, `concurrency` people at a time, each waiting for the answer
    in the thread before pasting again (a closed loop)."""
    fake.reset()
    events = [message(t, ts=f"{ts_prefix}.{i:06d}", channel=f"CB{i % 50}") for i, t in enumerate(texts)]
    sent: dict[str, float] = {}

    def converse(event: dict) -> int:
        answered = fake.expect_answer(event["ts"])
        sent[event["ts"]] = time.perf_counter()
        status = app.sender.event(event)[0]
        answered.wait(timeout=60)
        return status

    def harness_cpu() -> float:
        return cpu_seconds(os.getpid(), children=False)

    server_before, harness_before = cpu_seconds(app.process.pid), harness_cpu()
    # This process is the load generator and the fake Slack: a full collection of its garbage stops both, and
    # the latencies would count that pause against the server (docs/benchmarks.md). It collects between blocks.
    gc.disable()
    try:
        start = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            statuses = list(pool.map(converse, events))
        posts = fake.wait_for("chat.postMessage", len(events), timeout=120)
    finally:
        gc.enable()
    end = max(p.at for p in posts)
    block = Block(len(events), statuses.count(200), len(events) / (end - start),
                  [(p.at - sent[p.args["thread_ts"]]) * 1000 for p in posts if p.args["thread_ts"] in sent],
                  cpu_seconds(app.process.pid) - server_before, harness_cpu() - harness_before)
    gc.collect()
    return block


def take_turns(apps: list[AppUnderTest], fake: FakeSlack, texts: list[str], blocks: int, events: int,
               concurrency: int) -> list[float]:
    """Warm each app up (first requests import and compile lazily; not counted), then let them take turns in
    `blocks` blocks of `events` each, in ABBA order, so that a change in the machine's speed during the run
    (this box's varies by up to 2x) hits both alike. Each block pair gives one ratio, second app / first."""
    for n, app in enumerate(apps):
        drive(app, fake, texts[:40], concurrency, f"170000000{n}")
    ratios, cursor = [], 0
    for block in range(blocks):
        for app in (apps if block % 2 == 0 else apps[::-1]):
            chunk = texts[cursor: cursor + events]
            cursor += events
            app.blocks.append(drive(app, fake, chunk, concurrency, f"18{block:02d}{cursor:06d}"))
        ratios.append(apps[1].blocks[-1].rate / apps[0].blocks[-1].rate)
    return ratios


def bare_asgi():
    from slack_bolt.adapter.asgi import SlackRequestHandler

    return SlackRequestHandler(bare_app(Settings.load(env_file=None)))


def serve_bare(port: int, workers: int) -> None:
    import uvicorn

    sys.path.insert(0, str(Path(__file__).parent))
    # uvicorn's pure-Python defaults (asyncio loop, h11), which are what it chose before Fixit installed
    # httptools and uvloop: pinned, so that the anchor does not speed up with Fixit's dependencies
    uvicorn.run("bench_slack:bare_asgi", factory=True, host="127.0.0.1", port=port, workers=workers,
                log_level="warning", loop="asyncio", http="h11")


# Under callgrind a server runs some 30 times slower: Fixit's KB watcher would look for edits 30 times as
# often per event as in production, so it is told to look every minute instead of every 2 seconds.
CALLGRIND_KB_POLL_SECONDS = "60"


def server_env(fake: FakeSlack, tmp: str) -> dict[str, str]:
    return {"SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.api_url,
            "FIXIT_DATABASE_URL": f"sqlite:///{tmp}/bench.db", "SLACK_APP_TOKEN": ""}


def server_commands(workers: int) -> dict[str, list[str]]:
    """Each app's server command, by name (the port is added when started)."""
    workers_option = ["--workers", str(workers)]
    return {"bare Bolt app": [sys.executable, __file__, "--serve-bare", *workers_option],
            "Fixit": [sys.executable, "-m", "bot", "serve", "--http", "--host", "127.0.0.1", *workers_option]}


def loopback_slack(tls: bool, tmp: str) -> tuple[FakeSlack, dict[str, str]]:
    """The fake Slack, over HTTPS with a CA made for this run when `tls`; and what the servers need to trust
    it the way a deployment does: SSL_CERT_FILE (read by Python's default SSL context) names this machine's
    whole CA bundle with the run's CA added, so that loading the trust store costs what it costs in
    production (docs/benchmarks.md says what a file of the run's CA alone hides)."""
    if not tls:
        return FakeSlack(), {}
    import ssl

    import trustme

    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    system = ssl.get_default_verify_paths().cafile
    bundle = Path(system).read_bytes() if system and Path(system).is_file() else b""
    if not bundle:
        print("note: no system CA bundle found; the servers trust the run's CA alone", file=sys.stderr)
    ca_file = Path(tmp) / "bench-ca.pem"
    ca_file.write_bytes(bundle + b"\n" + ca.cert_pem.bytes())
    return FakeSlack(tls=context), {"SSL_CERT_FILE": str(ca_file)}


def count_instructions(events: int, concurrency: int, tls: bool) -> None:
    require_valgrind("--instructions")
    texts = pastes(100 + events)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        fake, trust = loopback_slack(tls, tmp)
        env = {**server_env(fake, tmp), **trust, "FIXIT_KB_POLL_SECONDS": CALLGRIND_KB_POLL_SECONDS}
        for n, (name, command) in enumerate(server_commands(workers=1).items()):
            port, out = free_port(), Path(tmp) / f"callgrind.{n}.out"
            app = AppUnderTest(name, start_server(callgrind_command(out) + command, env, port, timeout=600),
                               SlackSender(f"http://127.0.0.1:{port}/slack/events"))
            try:
                results[name] = instructions_per_event(app, fake, texts, concurrency, out)
            finally:
                app.process.kill()
                app.process.wait(timeout=30)
        fake.close()
    print(f"Instructions each server executed per event in user space (valgrind callgrind, all threads), "
          f"{events} signed message events at concurrency {concurrency}, 1 worker process, Slack Web API over "
          f"{'HTTPS' if tls else 'plain HTTP'}")
    print("| app | M instructions per event |")
    print("|---|---:|")
    for name, count in results.items():
        print(f"| {name} | {count:.2f} |")
    bare, fixit = results.values()
    print(f"Fixit / bare: {fixit / bare:.2f}")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def measure_rss(events: int, concurrency: int, tls: bool, step: int = 1000, warm_up: int = 200,
                name: str = "Fixit") -> None:
    """One app alone (Fixit unless `name` says the anchor): its server's resident memory after every `step`
    events, counted from the end of `warm_up` events, and the growth per 1 000 events over the second half
    (the first fills caches that are meant to fill)."""
    texts = pastes(events + warm_up)
    with tempfile.TemporaryDirectory() as tmp:
        fake, trust = loopback_slack(tls, tmp)
        port = free_port()
        process = start_server(server_commands(1)[name], {**server_env(fake, tmp), **trust}, port)
        app = AppUnderTest(name, process, SlackSender(f"http://127.0.0.1:{port}/slack/events"))
        samples = []
        try:
            for done in range(0, warm_up, step):
                drive(app, fake, texts[done:min(done + step, warm_up)], concurrency, f"17{done:08d}")
            samples.append((0, rss_kib(process.pid)))
            for done in range(step, events + 1, step):
                drive(app, fake, texts[warm_up + done - step: warm_up + done], concurrency, f"19{done:08d}")
                samples.append((done, rss_kib(process.pid)))
        finally:
            process.terminate()
            process.wait(timeout=10)
            fake.close()
    print(f"{name} server RSS over {events} events after {warm_up} to warm up (concurrency {concurrency}, Slack "
          f"over {'HTTPS' if tls else 'plain HTTP'})")
    print("| events | RSS MiB |")
    print("|---:|---:|")
    for done, kib in samples:
        print(f"| {done} | {kib / 1024:.1f} |")
    half = samples[len(samples) // 2:]
    (first, a), (last, b) = half[0], half[-1]
    print(f"growth over the second half ({first}-{last} events): {(b - a) / 1024 / (last - first) * 1000:+.3f} MiB "
          f"per 1 000 events")
    window = 10_000 if events >= 20_000 else max(events // 4 // step * step, step)
    print(f"growth per 1 000 events, {window} events at a time (settling shows as shrinking figures):")
    at = dict(samples)
    for start in range(0, events - window + 1, window):
        if start + window in at:
            print(f"  {start}-{start + window}: {(at[start + window] - at[start]) / 1024 / window * 1000:+.3f} MiB")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(int(len(ordered) * share) - 1, 0)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=300, help="events per block")
    parser.add_argument("--blocks", type=int, default=6, help="blocks per app, alternating between the apps")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes for both apps")
    parser.add_argument("--pin", action="store_true",
                        help="servers on CPU 0, this process (load generator, fake Slack) on the others (Linux)")
    parser.add_argument("--instructions", action="store_true",
                        help="count each server's instructions per event under callgrind instead of timing")
    parser.add_argument("--tls", action="store_true",
                        help="serve the loopback Slack over HTTPS (a CA made for the run, trusted via SSL_CERT_FILE)")
    parser.add_argument("--rss", type=int, default=0, metavar="EVENTS",
                        help="Fixit alone: its RSS every 1 000 events over this many events")
    parser.add_argument("--rss-warm-up", type=int, default=200, metavar="EVENTS",
                        help="with --rss: events served before the first sample (default 200)")
    parser.add_argument("--rss-bare", action="store_true",
                        help="with --rss: the stock bare Bolt app instead of Fixit, measured the same way")
    parser.add_argument("--serve-bare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.port, args.workers)
        return
    server_cpus = None
    if args.pin:
        cpus = os.sched_getaffinity(0)
        if len(cpus) < 2:
            parser.error("--pin needs at least 2 CPUs")
        server_cpus = {min(cpus)}
        os.sched_setaffinity(0, cpus - server_cpus)
    if args.instructions:
        count_instructions(args.events, args.concurrency, args.tls)
        return
    if args.rss:
        measure_rss(args.rss, args.concurrency, args.tls, warm_up=args.rss_warm_up,
                    name="bare Bolt app" if args.rss_bare else "Fixit")
        return
    texts = pastes(args.events * args.blocks * 2)
    with tempfile.TemporaryDirectory() as tmp:
        fake, trust = loopback_slack(args.tls, tmp)
        env, commands = {**server_env(fake, tmp), **trust}, server_commands(args.workers)
        apps = []
        try:
            for name, command in commands.items():
                port = free_port()
                apps.append(AppUnderTest(name, start_server(command, env, port, server_cpus),
                                SlackSender(f"http://127.0.0.1:{port}/slack/events")))
            ratios = take_turns(apps, fake, texts, args.blocks, args.events, args.concurrency)
        finally:
            for app in apps:
                app.process.terminate()
                app.process.wait(timeout=10)
            fake.close()
    print(f"Slack Web API over {'HTTPS' if args.tls else 'plain HTTP'}; "
          f"{args.blocks} blocks of {args.events} signed message events per app, concurrency {args.concurrency}; "
          f"each app served by uvicorn with {args.workers} worker process(es); load generator and loopback "
          f"Slack in this process; {os.cpu_count()} CPUs"
          + ("; servers pinned to one CPU, this process to the others" if args.pin else ""))
    print("| app | events | HTTP 200 | events/s (median block) | p50 ms to answer | p99 ms to answer "
          "| server CPU ms/event | harness CPU ms/event |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for app in apps:
        events, latencies = app.total("events"), [ms for b in app.blocks for ms in b.latencies]
        print(f"| {app.name} | {events} | {app.total('ok')} | {statistics.median(b.rate for b in app.blocks):.0f} "
              f"| {percentile(latencies, 0.5):.1f} | {percentile(latencies, 0.99):.1f} "
              f"| {app.total('server_cpu') / events * 1000:.2f} | {app.total('harness_cpu') / events * 1000:.2f} |")
    print(f"Fixit / bare throughput: {statistics.median(ratios):.2f} (median of {len(ratios)} block pairs; "
          f"range {min(ratios):.2f}-{max(ratios):.2f})")
    bare_cpu, fixit_cpu = (app.total("server_cpu") / app.total("events") for app in apps)
    if fixit_cpu:
        print(f"bare / Fixit server CPU per event: {bare_cpu / fixit_cpu:.2f} (the throughput ratio when each server "
              f"process, not the shared cores, is the limit)")


if __name__ == "__main__":
    main()
