"""`make eval`: Fixit beside the peer (plain BM25 over the help articles) on every labelled set, by kind.

    python bench/eval_table.py          # the table
    python bench/eval_table.py --fixit  # Fixit only (no articles needed)

For each set and kind: Fixit's share answered exactly (for chatter: left silent), Fixit's share with the
expected entry among its answers or suggestions (for chatter: nothing offered at all), and the peer's
share answered exactly with its threshold tuned on that very set. Sets marked held-out were never used to
fit or tune anything.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from peer_bm25 import ARTICLES, ArticleBM25, tuned_scores  # noqa: E402

from bot.authoring.evaluate import evaluate  # noqa: E402
from bot.kb import load_knowledge_base  # noqa: E402
from bot.match import Matcher  # noqa: E402

DATA = ROOT / "tests" / "data"
SETS = [  # (name, files, held out)
    ("generated pastes", ["devset_generated.jsonl"], False),
    ("hand-written pastes", ["dev_pastes_handwritten.jsonl"], False),
    ("pastes held out (2nd session)", ["heldout.jsonl"], True),
    ("people, dev", ["people_dev.jsonl", "people_dev2.jsonl", "people_dev2_chatter.jsonl"], False),
    ("people, held out", ["people_heldout.jsonl"], True),
]


def rows_of(files: list[str]) -> list[dict]:
    return [json.loads(line) for name in files for line in (DATA / name).read_text(encoding="utf-8").splitlines()
            if line.strip()]


def fixit_scores(matcher: Matcher, files: list[str]) -> dict[str, list[int]]:
    """kind -> [n, answered exactly (chatter: silent), offered (chatter: nothing offered)], over the files."""
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for name in files:
        for kind, t in evaluate(matcher, DATA / name).by_kind.items():
            tally[kind][0] += t.total
            tally[kind][1] += t.right
            tally[kind][2] += t.offered
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fixit", action="store_true", help="Fixit only, without the peer")
    args = parser.parse_args()
    kb = load_knowledge_base(ROOT / "knowledge")
    matcher = Matcher(kb)
    peer = None
    if not args.fixit:
        if (ARTICLES / "INDEX.tsv").is_file():
            peer = ArticleBM25(kb)
        else:
            print(f"(the peer needs the help articles at {ARTICLES}; showing Fixit only)\n")
    print("| set | kind | n | Fixit exact / silent | Fixit offered / quiet | peer exact / silent |")
    print("|---|---|---:|---:|---:|---:|")
    for name, files, held_out in SETS:
        rows = rows_of(files)
        ours = fixit_scores(matcher, files)
        theirs = tuned_scores(peer, rows)[1] if peer else {}
        for kind, (n, exact, offered) in sorted(ours.items()):
            peer_cell = f"{theirs[kind][0] / theirs[kind][1]:.1%}" if kind in theirs else "–"
            label = name + (" *(held out)*" if held_out else "")
            print(f"| {label} | {kind} | {n} | {exact / n:.1%} | {offered / n:.1%} | {peer_cell} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
