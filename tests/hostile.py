"""Adversarial pastes of a given length: the shapes that made cleaning, masking, code finding or question
detection backtrack or rescan (issue 12), and a realistic long paste to compare them with.

Shared by the hostile-input tests and `bench/bench_hostile.py`, so both hold the same shapes.
"""

from __future__ import annotations

import random

SLACK_MAX = 40_000  # characters in one Slack message

MARKUP = "*_~`>&<|[]():#@!\"'-.,;/\\"

REALISTIC = (
    "INT771 Export Error: Export not completed. The batches for this reporting period are closed in Sage "
    "Intacct. Reopen the period or change the export date in Workspace configurations.\n"
    "Report R00123 for jane@example.com, $1,234.56 on 03/28/2026, see <https://example.com/r/1|the report>\n"
    "> NS0012 Export Error: the vendor doesn't have access to the transaction currency. *Please* check it.\n"
    "why does this keep failing? we tried again and it's still not working :confused:\n"
)


def repeat(unit: str, length: int) -> str:
    return (unit * (length // len(unit) + 1))[:length]


def shapes(length: int = SLACK_MAX) -> dict[str, str]:
    """name -> a paste of exactly `length` characters."""
    out = {}
    for ch in MARKUP:
        out[f"run of {ch!r}"] = repeat(ch, length)
        out[f"a + run of {ch!r} + a"] = "a" + repeat(ch, length - 2) + "a"
    out.update({
        "'a *' repeated": repeat("a *", length),
        "'*a' repeated": repeat("*a", length),
        "'_a_ ' repeated": repeat("_a_ ", length),
        "'<http:' repeated": repeat("<http:", length),
        "'<mailto:' repeated": repeat("<mailto:", length),
        "'<https://x|' repeated": repeat("<https://x|", length),
        "'<@' repeated": repeat("<@", length),
        "'<!' repeated": repeat("<!", length),
        "'int 771 ' repeated": repeat("int 771 ", length),
        "'INT-771 ' repeated": repeat("INT-771 ", length),
        "'desk 15 ' repeated": repeat("desk 15 ", length),
        "'ns 23 error ' repeated": repeat("ns 23 error ", length),
        "'NS885 ' repeated": repeat("NS885 ", length),
        "long word + ' 1'": repeat("a", length - 2) + " 1",
        "long word + '1'": repeat("a", length - 1) + "1",
        "long word-with-hyphens + '1'": repeat("a-", length - 1) + "1",
        "long dotted number": repeat("1.", length),
        "long digits and commas": repeat("1,", length),
        "'$1' repeated": repeat("$1", length),
        "'a@a.' repeated": repeat("a@a.", length),
        "'a@' repeated": repeat("a@", length),
        "'http' repeated": repeat("http", length),
        "'jan 1 ' repeated": repeat("jan 1 ", length),
        "'1 jan ' repeated": repeat("1 jan ", length),
        "'how why what ' repeated": repeat("how why what ", length),
        "', why ' repeated": repeat(", why ", length),
        "'if i do it ' repeated": repeat("if i do it ", length),
        "'if we ' repeated": repeat("if we ", length),
        "'not ' repeated": repeat("not ", length),
        "'> ' nested quotes": repeat("> ", length),
        "'&gt;' nested quotes": repeat("&gt;", length),
        "'\"' quotes with text": repeat('"abcdefghijklm ', length),
        "'\\'' quotes with text": repeat("'abcdefghijklm ", length),
        "'<@U12345> ' mention flood": repeat("<@U12345> ", length),
        "'<!channel> ' broadcast flood": repeat("<!channel> ", length),
        "'<#C123|general> ' channel flood": repeat("<#C123|general> ", length),
        "':smile:' emoji flood": repeat(":smile:", length),
        "':a' colons": repeat(":a", length),
        "'[' placeholders": repeat("[a", length),
        "'from: x' header lines": repeat("from: x\n", length),
        "'subject: re: ' repeated": repeat("subject: re: ", length),
        "'-- forwarded message' repeated": repeat("-- forwarded message ", length),
        "one line of words": repeat("export period closed batches intacct ", length),
        "quoted error wordings": repeat('"the batches for this reporting period are closed" ', length),
        "made-up words": made_up_words(length),
        "one code, then KB words": "INT771 " + repeat("period closed batches export ", length - 7),
        "newlines": repeat("\n", length),
        "words one per line": repeat("closed\n", length),
        "realistic long paste": repeat(REALISTIC, length),
    })
    return out


def made_up_words(length: int, seed: int = 7) -> str:
    """Distinct words of KB-like length that no KB has: each is looked up for typos on its own."""
    rng = random.Random(seed)
    words, size = [], 0
    while size < length:
        word = "".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(rng.randint(3, 5)))
        words.append(word)
        size += len(word) + 1
    return " ".join(words)[:length]


def markup_strings(count: int, length: int, seed: int = 12) -> list[str]:
    """Random strings of long runs of markup characters, each run between a few letters, digits or blanks
    (the shape that made lookarounds rescan a run from each of its characters); seeded, never flaky."""
    rng = random.Random(seed)
    filler = "aZ1 \n\t.-"
    out = []
    for _ in range(count):
        parts, size = [], 0
        while size < length:
            run = rng.choice(MARKUP) * rng.choice((2, 30, 800, 4000, 12000))
            glue = "".join(rng.choice(filler) for _ in range(rng.randint(1, 3)))
            parts += [run, glue]
            size += len(run) + len(glue)
        out.append("".join(parts)[:length])
    return out
