"""Hostile-input benchmark: how long the matcher takes on adversarial pastes of Slack's maximum size.

    python bench/bench_hostile.py                 # every shape at 40 000 characters
    python bench/bench_hostile.py --length 10000  # another length
    python bench/bench_hostile.py --stages        # also the time of each stage (clean, codes, mask, ...)

Each shape is matched `--repeat` times. The first run is reported (it pays for what the matcher caches,
such as the reading of words it has not seen, as a hostile paste of new words would each time) and the
best run (what is left when a noisy neighbour is not inflating it), next to the realistic long paste of
the same size; the target is held against the first. A shape that runs past `--cap` seconds is stopped and
reported as over it. Target: every shape at most 100 ms.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from hostile import SLACK_MAX, shapes  # noqa: E402

from bot.kb import load_knowledge_base  # noqa: E402
from bot.match import Matcher  # noqa: E402
from bot.match.limits import MAX_INPUT_CHARS  # noqa: E402
from bot.match.normalize import clean, drop_email_headers, mask  # noqa: E402
from bot.match.questions import asks_for_help  # noqa: E402

TARGET_MS = 100.0


class Overrun(Exception):
    pass


def _alarm(signum, frame):
    raise Overrun


def timed(fn, text: str, repeat: int, cap: float) -> tuple[float, float] | None:
    """(first, best) of `repeat` runs in ms, or None when a run went past `cap` seconds."""
    runs = []
    for _ in range(repeat):
        signal.setitimer(signal.ITIMER_REAL, cap)
        try:
            start = time.perf_counter()
            fn(text)
            runs.append((time.perf_counter() - start) * 1000)
        except Overrun:
            return None
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    return runs[0], min(runs)


def stages(matcher: Matcher) -> dict:
    """The matcher's stages one at a time, each on the whole cleaned paste (no cap but the input's), so
    that each shows it is linear by itself; `match` is the matcher as it runs, caps included."""
    return {
        "clean": lambda t: clean(t[:MAX_INPUT_CHARS]),
        "codes": lambda c: matcher.kb.codes.find(c),
        "headers": lambda c: drop_email_headers(c),
        "mask": lambda c: mask(c),
        "question": lambda c: asks_for_help(c),
        "match": matcher.match,
    }


ON_CLEANED = {"codes", "headers", "mask", "question"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--length", type=int, default=SLACK_MAX)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cap", type=float, default=5.0, help="seconds after which a shape is stopped")
    parser.add_argument("--stages", action="store_true", help="time each stage as well as the whole match")
    args = parser.parse_args()

    signal.signal(signal.SIGALRM, _alarm)
    matcher = Matcher(load_knowledge_base(ROOT / "knowledge"))
    matcher.match("INT771 warm-up")
    fns = stages(matcher) if args.stages else {"match": matcher.match}
    all_shapes = shapes(args.length)
    realistic = timed(matcher.match, all_shapes["realistic long paste"], args.repeat, args.cap)

    def show(ms):
        return f">{args.cap * 1000:.0f}" if ms is None else f"{ms[0]:.1f} / {ms[1]:.1f}"

    names = list(fns)
    print(f"# {len(all_shapes)} shapes of {args.length} characters; ms, first run / best of {args.repeat}")
    print("| shape | " + " | ".join(names) + " | match × realistic |")
    print("|---|" + "---:|" * (len(names) + 1))
    worst, over = 0.0, []
    for name, text in all_shapes.items():
        cleaned = clean(text[:MAX_INPUT_CHARS]) if args.stages else text
        times = {stage: timed(fn, cleaned if stage in ON_CLEANED else text, args.repeat, args.cap)
                 for stage, fn in fns.items()}
        total = times["match"]
        factor = "" if total is None or not realistic else f"{total[0] / realistic[0]:.1f}"
        print(f"| {name} | " + " | ".join(show(times[s]) for s in names) + f" | {factor} |")
        first = float("inf") if total is None else total[0]
        if first > TARGET_MS:
            over.append(name)
        worst = max(worst, first)
    print(f"\nrealistic long paste: {show(realistic)} ms; slowest shape (first run): "
          f"{'over the cap' if worst == float('inf') else f'{worst:.1f} ms'}; target {TARGET_MS:.0f} ms")
    print("every shape within the target" if not over else f"over the target: {', '.join(over)}")
    return 0 if not over else 1


if __name__ == "__main__":
    sys.exit(main())
