"""Generates the synthetic labelled dev set from the knowledge base's messages.

    python tests/data/make_devset.py > tests/data/devset_generated.jsonl

Each error entry's message is filled in (dates, accounts, emails, names) and pasted the ways people
paste: code only, message only, Slack-formatted, with typos, truncated, lower case, inside a forwarded
email, two errors at once. The hand-written chatter of dev_chatter.txt follows, labelled silent.
Deterministic (fixed seed), so the file only changes when the KB does.
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.kb import load_knowledge_base  # noqa: E402
from bot.match.index import error_text as _error_text  # noqa: E402

CODES = load_knowledge_base(Path(__file__).resolve().parents[2] / "knowledge").codes
leading_code = CODES.leading


def error_text(message: str) -> str:
    return _error_text(message, CODES)

FILLERS = [
    (r"date|mm|yyyy", ["03/28/2026", "2026-03-31", "12/01/2025", "31/01/2026", "04/15/2026"]),
    (r"email|e-mail", ["jane.doe@acme.com", "m.ortiz@globex.io", "finance+ap@initech.co.uk", "li.wei@northwind.com"]),
    (r"merchant", ["Uber", "Delta Air Lines", "Starbucks", "Marriott Bonvoy", "Amazon Web Services"]),
    (r"vendor", ["Acme Supplies", "004512", "Globex Corp", "000231"]),
    (r"account", ["6010", "Travel Expenses (6010)", "2100", "4000-Sales", "1450"]),
    (r"card", ["Amex 4412", "9021", "Visa Corporate 7788"]),
    (r"employee|name|member|user|submitter|approver|manager|person",
     ["Jane Doe", "Marco Bianchi", "Priya Raman", "tom@acme-corp.com"]),
    (r"category|expense type|item", ["Meals & Entertainment", "Travel", "Software Subscriptions", "Mileage"]),
    (r"project|customer", ["Project Apollo", "Initech Rollout", "PRJ-1042", "Wayne Enterprises"]),
    (r"subsidiary|entity", ["UK Ltd", "3", "Parent Company : US", "Acme GmbH"]),
    (r"tax", ["GST on Expenses", "VAT 20%", "CA-Zero", "Exempt"]),
    (r"currency", ["CAD", "EUR", "GBP", "NZD"]),
    (r"field|element|dimension|tag|class|location|department", ["department", "Location", "Class", "costcenter"]),
    (r"rule", ["SR-0042", "RequireEntity"]),
    (r"line", ["3", "12"]),
]
GENERIC = ["12345", "R00J5K2LM8P", "88213", "A1B2C3", "5521907", "2048"]

SLACK_WRAPS = [
    "> {msg}",
    "```{msg}```",
    "hey team, getting this on the {month} reports :sob:\n> {msg}",
    "<@U024BE7LH> any idea?\n```\n{msg}\n```",
    "*{msg}*\nanyone seen this before?",
    "export failed again :rage: {msg}",
    "{msg} :thinking_face: <https://expensify.com/report?id=R00J5K2LM8P|report>",
    "Can someone help? Report R00J5K2LM8P won't export:\n>{msg}",
]
EMAIL = """---------- Forwarded message ---------
From: Concierge <concierge@expensify.com>
Date: Mon, Mar 30, 2026 at 9:14 AM
Subject: Report R00J5K2LM8P failed to export
To: ap-team@acme.com

Hi Jane,

We tried to export the report "{month} travel" to your accounting system, but it failed with:

{msg}

Fix the issue and export the report again.

Thanks,
Concierge"""
MONTHS = ["March", "Q1", "October", "year-end", "December"]
CODE_STYLES = ["{p}{n}", "{p} {n}", "{pl}-{n}", "{p}{n}:", "{pl}{n}", "getting {p}{n} again", "{p}{n}??",
               "error {pl} {n}"]


def fill(message: str, rng: random.Random) -> str:
    def one(m: re.Match) -> str:
        name = m.group(1).lower()
        for pattern, values in FILLERS:
            if re.search(pattern, name):
                return rng.choice(values)
        return rng.choice(GENERIC)
    return re.sub(r"\[([^\]]*)\]", one, message)


def without_code(message: str, rng: random.Random) -> str:
    code = leading_code(message)
    if not code:
        return message
    rest = message.strip()[len(code):].lstrip(" :")
    if rng.random() < 0.5:  # drop the "Export Error:" header too
        rest = re.sub(r"^(?:(?:Export|Sync|Login)\s+)?Error:\s*", "", rest)
    return rest


def typo(text: str, rng: random.Random, count: int) -> str:
    words = text.split(" ")
    spots = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    for i in rng.sample(spots, min(count, len(spots))):
        w = list(words[i])
        k = rng.randrange(1, len(w) - 1)
        kind = rng.choice(["drop", "swap", "double", "replace"])
        if kind == "drop":
            del w[k]
        elif kind == "swap":
            w[k], w[k + 1 if k + 1 < len(w) else k - 1] = w[k + 1 if k + 1 < len(w) else k - 1], w[k]
        elif kind == "double":
            w.insert(k, w[k])
        else:
            w[k] = rng.choice("aeiourst")
        words[i] = "".join(w)
    return " ".join(words)


def truncate(bare: str, rng: random.Random, others, entry) -> str:
    """The first 60-85 % of a message, unless that is too short or another entry's message starts so too."""
    if len(bare) < 60:
        return ""
    cut = bare[: int(len(bare) * rng.uniform(0.6, 0.85))]
    probe = error_text(cut)
    for other in others:
        if other.id != entry.id and any(error_text(m).startswith(probe) for m in other.messages):
            return ""
    return cut


def code_only(code: str, rng: random.Random) -> str:
    prefix = re.match(r"[A-Z]+", code).group()
    number = code[len(prefix):]
    return rng.choice(CODE_STYLES).format(p=prefix, pl=prefix.lower(), n=number)


def pastes(entry, rng: random.Random, others) -> list[dict]:
    rows = []
    message = rng.choice(entry.messages)
    code = leading_code(message)
    full = fill(message, rng)
    bare = without_code(fill(message, rng), rng)

    def add(kind: str, text: str, expect=(entry.id,)):
        rows.append({"text": text, "expect": list(expect), "kind": kind})

    if code:
        add("code_only", code_only(code, rng))
    add("message_only", bare)
    add("slack_paste", rng.choice(SLACK_WRAPS).format(msg=full, month=rng.choice(MONTHS)))
    add("typo", typo(full if rng.random() < 0.5 else bare, rng, rng.choice([1, 2])))
    truncated = truncate(bare, rng, others, entry)
    if truncated:
        add("truncated", truncated)
    add("lowercase", (full if rng.random() < 0.5 else bare).lower())
    add("forwarded_email", EMAIL.format(msg=full if rng.random() < 0.6 else bare, month=rng.choice(MONTHS)))
    other = rng.choice([o for o in others if o.id != entry.id and o.system != entry.system] or others)
    second = fill(rng.choice(other.messages), rng)
    add("two_errors", f"two different errors today:\n1) {full}\n2) {second}", (entry.id, other.id))
    return rows


def main() -> None:
    kb = load_knowledge_base(Path(__file__).resolve().parents[2] / "knowledge")
    rng = random.Random(20261126)
    errors = [e for e in kb if not e.is_faq]
    for entry in errors:
        for row in pastes(entry, rng, errors):
            print(json.dumps(row, ensure_ascii=False))
    chatter = Path(__file__).resolve().parent / "dev_chatter.txt"
    for line in chatter.read_text(encoding="utf-8").splitlines():
        if line.strip():
            print(json.dumps({"text": line, "expect": [], "kind": "chatter"}, ensure_ascii=False))


if __name__ == "__main__":
    main()
