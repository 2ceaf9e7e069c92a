"""Writing a KB entry from its parts: what `kb import` writes from a help article, and what Slack's "Save as a
KB draft" writes from a thread.

- `draft_yaml(...)`: the YAML text of an entry marked `draft: true` (see knowledge/README.md), which the
  loader reads back to the same values; write it to `knowledge/<system folder>/<ID>.yaml`.
- `placeholders(text, codes)`: a pasted error with the parts that vary written the KB's way: `[date]`, `[amount]`,
  `[email]`, `[report id]`, `[link]`, `[id]`, `[number]`… — for a draft's `message`.
- `example_pastes(message, codes)`: the examples a draft starts with (the code alone, the message alone with its
  placeholders filled in, a Slack paste of it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import yaml

from bot.codes import CodeFinder
from bot.match.normalize import variable_spans

WIDTH = 100  # where a long text's lines are folded
MENTION = "<@U024BE7LH>"

DRAFT_COMMENT = "not served until reviewed: put the prose in your own words, then remove this line"
DESCRIBES_COMMENT = """\
# describes: how people tell this error in Slack without its code or message ("intacct won't take the
# export, says the period is closed"). kb check requires each to bring this entry at least into the
# suggestions. Add two or three:
# describes:
#   - "…"
"""


# -- placeholders ------------------------------------------------------------------------------------------

_MONTH = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)", re.IGNORECASE)
_NUMERIC_DATE = re.compile(r"\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}")
_AMOUNT = re.compile(r"[$€£¥]\s?-?\d[\d,]*(?:\.\d+)?|-?\d[\d,]*\.\d+")
_WORD_BEFORE = re.compile(r"([A-Za-z]+)[\s:#]*$")
# a number or id right after one of these words is written [that word]: "account 6120" → "account [account]"
_NAMED_BY = {"account", "vendor", "employee", "project", "customer", "category", "subsidiary", "invoice", "bill",
             "line", "card", "department", "location", "class", "entity", "user", "merchant"}


def placeholders(text: str, codes: CodeFinder) -> str:
    """`text` with each part that varies from one occurrence of the error to the next written as a KB
    placeholder: "Report R00123 failed on 03/28/2026 for jane@acme.com ($1,284.50)" → "Report [report id]
    failed on [date] for [email] ([amount])". The parts are those the matcher masks (bot/match/normalize.py):
    emails ([email]), links ([link]), dates ([date]), amounts ([amount]), and anything holding a digit — a
    report's id ([report id]: after "report"), a number or id after a word such as "account" or "vendor"
    ([account], [vendor]), another id ([id]) or number ([number]). Error codes (INT771, NS0012) are kept, and
    so are `[placeholders]` already there.

    `text`: plain text (for a raw Slack message, take the text of `bot.match.normalize.clean` first: it
    removes the markup); `codes`: the KB's code finder (`kb.codes`)."""
    keep = [(m.start, m.end) for m in codes.find(text)]
    out, cursor = [], 0
    for start, end in variable_spans(text):
        if any(start < k_end and k_start < end for k_start, k_end in keep):
            continue
        out += [text[cursor:start], "[" + _kind_of(text[start:end], text[:start]) + "]"]
        cursor = end
    out.append(text[cursor:])
    return "".join(out)


def _kind_of(value: str, before: str) -> str:
    word = _WORD_BEFORE.search(before)
    word = word.group(1).lower() if word else ""
    if "@" in value:
        return "email"
    if value.lower().startswith(("http", "www.")):
        return "link"
    if _NUMERIC_DATE.fullmatch(value) or _MONTH.search(value):
        return "date"
    if _AMOUNT.fullmatch(value):
        return "amount"
    if word == "report" or (word == "id" and before.lower().rstrip(" :#").endswith("report id")):
        return "report id"
    if word in _NAMED_BY:
        return word
    return "number" if value.isdigit() else "id"


# -- examples ----------------------------------------------------------------------------------------------

# realistic values for a message's [placeholders], by the placeholder's name or its last word
EXAMPLE_VALUES = {
    "date": "03/28/2026", "amount": "$1,284.50", "email": "maria.gonzalez@northwind.com", "link":
    "https://example.com/r/R00123", "report id": "R00123", "expense report id": "R00123", "id": "48213",
    "number": "1042", "account": "6120 Travel", "subsidiary": "Northwind UK Ltd", "entity": "Northwind UK Ltd",
    "vendor": "Acme Supplies", "merchant": "Blue Bottle Coffee", "category": "Travel Meals", "project":
    "Website Redesign", "customer": "Contoso Ltd", "employee": "Jane Doe", "member": "Jane Doe", "user":
    "Jane Doe", "submitter": "Jane Doe", "name": "Jane Doe", "element": "Memo", "field": "Department",
    "value": "Department", "dimension": "Region", "tax type": "GST on Expenses", "taxtype": "GST on Expenses",
    "tax": "GST on Expenses", "currency": "CAD", "card": "Amex Corporate 1004", "rule": "Require Department",
    "line": "3", "item": "Mileage", "location": "Toronto", "department": "Sales", "class": "Consulting",
    "key": "CUST-0042", "folder": "Receipts", "invoice": "INV-0042", "bill": "BILL-0042",
}
_PLACEHOLDER = re.compile(r"\[([^\[\]]{1,60})\]")


def fill_placeholders(message: str, values: dict[str, str] | None = None) -> str:
    """`message` with each `[placeholder]` replaced by a realistic value ("[email]" → an address, "[account]"
    → "6120 Travel"): `values` (by placeholder name, lower case) over EXAMPLE_VALUES."""
    table = {**EXAMPLE_VALUES, **{k.lower(): v for k, v in (values or {}).items()}}

    def value(m: re.Match) -> str:
        name = " ".join(m.group(1).lower().split())
        words = re.findall(r"[a-z]+", name)
        if name in table:
            return table[name]
        if words and words[-1] in table:
            return table[words[-1]]
        if "yyyy" in name or "date" in words:
            return table["date"]
        return "ABC-1042"
    return _PLACEHOLDER.sub(value, message)


def example_pastes(message: str, codes: CodeFinder) -> list[str]:
    """The examples a new entry of `message` starts with, of different shapes: the code alone, the message
    alone (without its "CODE Export Error:" head, placeholders filled in), and a Slack paste (the head in
    bold in a quote, the message, then a mention and a question). Without a code: the message, a lower-case
    paste with a word before it, and the Slack paste."""
    message = " ".join(message.split())
    code = codes.leading(message)
    head, sep, body = message.partition(": ")
    if not (sep and code and len(head.split()) <= 5):
        head, body = "", message
    filled = fill_placeholders(body)
    paste = (f"> *{head}*: {filled}" if head else f"> {filled}") + f"\n{MENTION} any idea what this means?"
    if code:
        shapes = [code, filled, paste]
    else:
        shapes = [filled, f"getting this on export: {filled.lower()}", paste]
    return list(dict.fromkeys(shapes))


# -- the YAML ----------------------------------------------------------------------------------------------

class _Folded(str):
    """A long text written as a folded block (`>-`), as the KB's entries write their prose."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False):
        return super().increase_indent(flow, False)  # a mapping's list indented under its key, as in the KB


def _represent_text(dumper: yaml.SafeDumper, value: str):
    style = '"' if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_folded(dumper: yaml.SafeDumper, value: str):
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style=">")


_Dumper.add_representer(str, _represent_text)
_Dumper.add_representer(_Folded, _represent_folded)


def _dump(key: str, value, fold: bool) -> str:
    """`key: value` as YAML, long texts folded when `fold` (read back to exactly `value`, else written on one
    line, quoted as needed)."""
    def prepare(v):
        if isinstance(v, str):
            return _Folded(v) if fold and len(v) > WIDTH - 20 and "\n" not in v else v
        if isinstance(v, dict):
            return {k: prepare(x) for k, x in v.items()}
        if isinstance(v, list):
            return [prepare(x) for x in v]
        return v

    for candidate, width in ((prepare(value), WIDTH if fold else 1_000_000), (value, 1_000_000)):
        text = yaml.dump({key: candidate}, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=width,
                         indent=2, default_flow_style=False)
        if yaml.safe_load(text) == {key: value}:
            return text
    raise ValueError(f"cannot write {key!r} as YAML that reads back the same")  # not seen: a safeguard


def _text(value: str) -> str:
    return str(value).strip()


def draft_yaml(id: str, title: str, system: str, kind: str, summary: str, *, message: str = "",
               causes: Sequence[str] = (), fixes: Sequence[tuple] = (), faq: Sequence[tuple] = (),
               links: Sequence[tuple[str, str]] = (), examples: Sequence[str] = (),
               describes: Sequence[str] = ()) -> str:
    """The YAML text of a KB entry marked `draft: true`, with the fields in the KB's order. Each argument is
    the field of the same name (knowledge/README.md):

    - `id`, `title`, `system`, `kind`, `summary`, `message`: texts (`message` left out when "", as for a faq);
    - `causes`, `examples`, `describes`: lists of texts;
    - `fixes`: (title, steps) pairs, steps a list of texts, or (title, steps, note);
    - `faq`: (q, a) pairs, or (q, a, also) with `also` a list of other phrasings;
    - `links`: (title, url) pairs.

    Texts are written as given (stripped), so prose may say `{tool}`; empty lists are left out, and so is
    an empty `describes`, with a comment saying what to write there (not for a faq). Nothing is validated
    here: read the file back with `bot.kb.loader.load_entry` (or run `kb check`) to see its problems. Every
    value reads back exactly, whatever it holds (quotes, colons, `*bold*`, a leading `{tool}`, non-ASCII,
    line breaks)."""
    def texts(values) -> list[str]:
        return [_text(v) for v in values]

    parts = [_dump("id", _text(id), False), _dump("title", _text(title), False),
             _dump("system", _text(system), False), _dump("kind", _text(kind), False),
             f"draft: true  # {DRAFT_COMMENT}\n"]
    if _text(message):
        parts.append(_dump("message", _text(message), True))
    parts.append(_dump("summary", _text(summary), True))
    if causes:
        parts.append(_dump("causes", texts(causes), True))
    if fixes:
        items = []
        for fix in fixes:
            item = {"title": _text(fix[0]), "steps": texts(fix[1])}
            if len(fix) > 2 and fix[2] and _text(fix[2]):
                item["note"] = _text(fix[2])
            items.append(item)
        parts.append(_dump("fixes", items, True))
    if faq:
        items = []
        for qa in faq:
            item = {"q": _text(qa[0]), "a": _text(qa[1])}
            if len(qa) > 2 and qa[2]:
                item["also"] = texts(qa[2])
            items.append(item)
        parts.append(_dump("faq", items, True))
    if links:
        parts.append(_dump("links", [{"title": _text(t), "url": _text(u)} for t, u in links], False))
    if examples:
        parts.append(_dump("examples", texts(examples), False))
    if describes:
        parts.append(_dump("describes", texts(describes), False))
    elif _text(kind) != "faq":
        parts.append(DESCRIBES_COMMENT)
    return "".join(parts)
