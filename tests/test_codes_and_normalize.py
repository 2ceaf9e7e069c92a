"""How codes are written, and how Slack markup is taken apart."""

from __future__ import annotations

import pytest

from bot.codes import CANONICAL, HYPHENATED, LOWER, SHORT, SPACED, CodeFinder
from bot.kb.systems import load_systems
from bot.match.normalize import clean, drop_email_headers, normalize


@pytest.fixture(scope="module")
def codes(kb):
    return kb.codes


@pytest.mark.parametrize("text, code", [
    ("INT771", "INT771"), ("INT 771", "INT771"), ("int-771", "INT771"), ("INT771:", "INT771"),
    ("error int 771 again", "INT771"), ("ns0012", "NS0012"), ("NS 12 error", "NS0012"), ("XERO-11", "XERO11"),
    ("desk08", "DESK08"), ("CER_091", "CER091"), ("(ONL888)", "ONL888"), ("getting INT#771", "INT771"),
    ("NS885 again", "NS0885"), ("ns 23 again", "NS0023"),
])
def test_code_spellings(codes, text, code):
    assert [m.code for m in codes.find(text)] == [code]


@pytest.mark.parametrize("text", [
    "INT77100", "version 2.0 of the ns1.2 doc", "wintest771", "ns0012345",
    "Ns5 apples", "nS5", "NS5Hq", "ns 1st", "ns5",  # a shortened code: in capitals, or "ns 23", not in a word
])
def test_shapes_that_are_never_codes(codes, text):
    assert codes.find(text) == []


@pytest.mark.parametrize("text, form", [
    ("INT771", CANONICAL), ("NS0012:", CANONICAL), ("INT#771", CANONICAL), ("INT 771", SPACED),
    ("INT-771", HYPHENATED), ("CER_091", HYPHENATED), ("int771", LOWER), ("desk 15", LOWER), ("NS885", SHORT),
])
def test_how_a_code_was_written(codes, text, form):
    assert [m.form for m in codes.find(text)] == [form]


def test_code_context_is_read_once_per_line(codes):
    found = codes.find("my desk 15 and desk 16\nexport error desk 17")
    assert [(m.code, m.error_line) for m in found] == [("DESK15", False), ("DESK16", False), ("DESK17", True)]
    assert codes.find("int 771 ??")[0].alone and not codes.find("got int 771")[0].alone


def test_families_come_from_the_systems_file(tmp_path):
    (tmp_path / "systems.yaml").write_text(
        "systems:\n  - {name: Acme Ledger, folder: acme, codes: {prefix: ACM, digits: 3}, names: [acme]}\n")
    systems, problems = load_systems(tmp_path / "systems.yaml")
    assert problems == [] and systems.families == {"ACM": 3}
    finder = CodeFinder(systems.families)
    assert [m.code for m in finder.find("ACM 12 and acm042 but not INT771")] == ["ACM012", "ACM042"]
    assert CodeFinder({}).find("INT771") == []


def test_leading_code_of_kb_messages(codes):
    assert codes.leading("INT771 Export Error: Export not completed.") == "INT771"
    assert codes.leading("CER091: Invalid field name.") == "CER091"
    assert codes.leading("Export not completed.") == ""


def test_slack_markup_is_removed():
    paste = ("&gt; *INT771 Export Error*: Export not completed. <@U02ABCD> see "
             "<https://example.com/r/1|the report> in <#C123|finance> :sob: ~old~ _now_ `code` <!channel>")
    text = clean(paste)
    assert text.startswith("INT771 Export Error: Export not completed.")
    for gone in ("<@", "&gt;", ":sob:", "*", "~", "<!channel>", "https://"):
        assert gone not in text
    assert "the report" in text and "#finance" in text and "xml_gateway" in clean("xml_gateway")


def test_code_fences_and_quotes_on_every_line():
    assert clean("```\nline one\n```") .split() == ["line", "one"]
    assert clean("> a\n> b\n>c").split() == ["a", "b", "c"]


def test_varying_parts_are_masked_on_both_sides():
    kb_side = normalize("Date associated with export must be on or after [MM/dd/yyyy].")
    for date in ("03/01/2026", "2026-03-01", "March 1, 2026", "1 Mar 2026"):
        assert normalize(f"Date associated with export must be on or after {date}.") == kb_side
    assert normalize("Vendor VEN-004512 owes $1,234.56 to jane.doe@acme.com") == "vendor # owes # to #"


def test_typography_is_unified():
    assert normalize("doesn\u2019t \u201cquoted\u201d \u2014 x\u00a0y") == "doesnt quoted - x y"


GMAIL_FORWARD = """---------- Forwarded message ---------
From: Concierge <concierge@expensify.com>
Date: Mon, Mar 30, 2026 at 9:14 AM
Subject: Fwd: Report R00J5K2LM8P failed to export
To: ap-team@acme.com

Hi Jane,"""

OUTLOOK_FORWARD = """From: Priya Desai <priya.desai@example.com>
Sent: Monday, April 8, 2024 9:14 AM
To: Finance Systems <finsys@example.com>
Cc: AP <ap@example.com>
Subject: FW: RE: Card export issue

Hello,"""


@pytest.mark.parametrize("email, left", [
    (GMAIL_FORWARD, "\nReport R00J5K2LM8P failed to export\n\nHi Jane,"),
    (OUTLOOK_FORWARD, "Card export issue\n\nHello,"),
    ("-----Original Message-----\nFrom: a@example.com\nSent: today\nsee below", "\n\nsee below"),
])
def test_a_forwarded_emails_header_block_is_reduced_to_its_subject(email, left):
    assert drop_email_headers(email) == left


@pytest.mark.parametrize("text", [
    "Date: the transaction date is in a closed period",   # one line alone is not a header block
    "Export Error: Export not completed.\nTo: fix it, reopen the period",
    "sent from my phone: INT771 again",
])
def test_lines_that_only_look_like_email_headers_are_kept(text):
    assert drop_email_headers(text) == text


def test_masking_variables_by_stretches_equals_the_whole_text_regex():
    """`mask_variables` runs the variable regex only near the characters a variable needs: the same result
    as running it over the whole text, on every dev-set text and on seeded random mixes of dates, amounts,
    emails, links and whitespace."""
    import json
    import random
    from pathlib import Path

    from bot.match import normalize as N

    data = Path(__file__).parent / "data"
    texts = [json.loads(line)["text"] for f in sorted(data.glob("*.jsonl")) for line in f.read_text().splitlines()
             if line.strip()]
    pieces = list("ab01 9@.-_#$€/:,\n\t'+") + ["mar ", "28 ", "march ", "2026", "www.", "http://", "st ", "jan.",
                                                "12.50", "x@y.com", "\u00a0", "٣", "  "]
    rnd = random.Random(14)
    texts += ["".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 40))) for _ in range(20000)]
    for text in texts:
        lowered = text.lower()
        assert N.mask_variables(lowered) == N._VARIABLE.sub(N.MASK, lowered), lowered[:200]


def test_the_lower_case_scan_finds_what_the_case_insensitive_pattern_finds(codes):
    """ASCII texts are scanned for codes lower-cased (faster); the shapes found, and what `strip` blanks, are
    those of the case-insensitive pattern, on every dev-set text and on seeded random mixes of code parts."""
    import json
    import random
    from pathlib import Path

    data = Path(__file__).parent / "data"
    texts = [json.loads(line)["text"] for f in sorted(data.glob("*.jsonl")) for line in f.read_text().splitlines()
             if line.strip()]
    texts = [t for t in texts if t.isascii()]  # the others go through the case-insensitive pattern itself
    pieces = list("intINTdeskDESKxeroXEROnsNScerONL0123456789 -_#:.\t\nabz,;(") + ["INT771", "ns 12", "Desk-41",
                                                                                  "int 0771", "NS0012:", "xero.11"]
    rnd = random.Random(15)
    texts += ["".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 30))) for _ in range(20000)]
    for text in texts:
        written = [(m.start(), m.end(), m.group(1)) for m in codes.pattern.finditer(text)]
        assert list(codes._shapes(text)) == [(s, e, p, *rest) for (s, e, p), rest in zip(
            written, [m.groups()[1:] for m in codes.pattern.finditer(text)], strict=True)], text
        assert codes.strip(text) == codes.pattern.sub(" ", text), text
        assert codes.strip(text, 1) == codes.pattern.sub(" ", text, count=1), text


@pytest.mark.parametrize("text, found", [
    ("\u0130NT771 Export Error", []), ("DES\u212a41", []), ("xero-11 \u0130", ["XERO11"]),
    ("\u0131nt 771 failed", ["INT771"]),  # a dotless i is an I in capitals
])
def test_letters_that_only_match_case_insensitively_do_not_crash(codes, text, found):
    """"İNT771" matches the pattern case-insensitively, but "İ".upper() is no family's prefix letter (it was
    looked up as one, and raised)."""
    assert [m.code for m in codes.find(text)] == found
