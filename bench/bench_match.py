"""Matcher benchmark: latency per paste, KB load time and peak memory, on the bundled KB and on
synthetic KBs of 1 000 and 10 000 entries (the bundled entries plus generated ones).

    python bench/bench_match.py            # all three sizes, a table at the end
    python bench/bench_match.py --size 0   # one size (0 = bundled only), as a row

Each size runs in its own process so that peak RSS belongs to that size alone.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.kb import load_knowledge_base  # noqa: E402
from bot.match import Matcher  # noqa: E402
from bot.match.index import error_text  # noqa: E402

PASTES = [ROOT / "tests" / "data" / "devset_generated.jsonl", ROOT / "tests" / "data" / "dev_pastes_handwritten.jsonl"]
SYSTEMS = ["Sage Intacct", "NetSuite", "QuickBooks Online", "QuickBooks Desktop", "Xero"]


def pastes() -> list[str]:
    return [json.loads(line)["text"] for path in PASTES for line in path.read_text(encoding="utf-8").splitlines()]


def synthetic_kb(size: int, into: Path) -> None:
    """The bundled KB plus generated entries whose messages reuse the bundled vocabulary."""
    shutil.copytree(ROOT / "knowledge", into, dirs_exist_ok=True)
    bundled = load_knowledge_base(ROOT / "knowledge")
    texts = [error_text(m, bundled.codes) for e in bundled for m in e.messages]
    vocabulary = sorted({w for text in texts for w in text.split() if w.isalpha()})
    rng = random.Random(size)
    target = into / "synthetic"
    target.mkdir()
    for n in range(size - len(bundled)):
        words = rng.sample(vocabulary, rng.randint(8, 22))
        words.insert(rng.randrange(len(words)), "[value]")
        message = " ".join(words).capitalize() + "."
        entry_id = f"SYN{n:05d}"
        target.joinpath(f"{entry_id}.yaml").write_text(
            f"id: {entry_id}\ntitle: {entry_id} Export Error\nsystem: {rng.choice(SYSTEMS)}\nkind: export\n"
            f"message: \"{message}\"\nsummary: Synthetic.\ncauses: [Synthetic.]\n"
            f"fixes: [{{title: Fix, steps: [One.]}}]\nexamples: [\"{message}\", a, b]\n", encoding="utf-8")


def measure(kb_dir: Path, runs: int) -> dict:
    texts = pastes()
    start = time.perf_counter()
    kb = load_knowledge_base(kb_dir)
    loaded = time.perf_counter()
    matcher = Matcher(kb)
    built = time.perf_counter()
    for text in texts[:50]:  # warm-up: typo-correction cache, allocator
        matcher.match(text)
    latencies = []
    for _ in range(runs):
        for text in texts:
            t0 = time.perf_counter_ns()
            matcher.match(text)
            latencies.append(time.perf_counter_ns() - t0)
    latencies.sort()
    return {
        "entries": len(kb),
        "pastes": len(latencies),
        "p50_ms": statistics.median(latencies) / 1e6,
        "p99_ms": latencies[int(len(latencies) * 0.99)] / 1e6,
        "load_s": loaded - start,
        "index_s": built - loaded,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_one(size: int, runs: int) -> dict:
    if size == 0:
        return measure(ROOT / "knowledge", runs)
    with tempfile.TemporaryDirectory() as tmp:
        synthetic_kb(size, Path(tmp) / "kb")
        return measure(Path(tmp) / "kb", runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, help="one KB size (0 = bundled), printed as JSON")
    parser.add_argument("--runs", type=int, default=3, help="passes over the pastes (default 3)")
    args = parser.parse_args()
    if args.size is not None:
        print(json.dumps(run_one(args.size, args.runs)))
        return
    rows = []
    for size in (0, 1000, 10000):
        out = subprocess.run([sys.executable, __file__, "--size", str(size), "--runs", str(args.runs)],
                             capture_output=True, text=True, check=True).stdout
        rows.append(json.loads(out))
    print("| KB entries | pastes timed | p50 ms | p99 ms | load s | index s | peak RSS MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['entries']} | {r['pastes']} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} | {r['load_s']:.3f} "
              f"| {r['index_s']:.3f} | {r['peak_rss_mb']:.0f} |")


if __name__ == "__main__":
    main()
