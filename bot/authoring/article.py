"""`kb import`: one published help article (Markdown) read into a draft KB entry.

The articles look like this (the help centre's error pages):

    ---                                       front matter: title, description, keywords (url if any)
    ---
    # CODE Export Error in System Integration
    If you see the error:
    CODE Export Error: the message.            → message (the paragraph after "If you see the error")
    This means …                               → summary (the paragraphs after the message)
    ## Why the CODE Export Error Happens …     → causes (its bullets and sentences)
    # How to Fix the CODE Export Error
    ## Confirm … / ## Retry the Export         → fixes: each section with numbered steps (an "On web:"
      1. …                                       line before a list, or an "On Web" heading, titles it)
    # FAQ
    ## A question?  An answer.                 → faq

FAQ and troubleshooting-overview pages have no message: each of their sections is a question (kind `faq`),
and each section with numbered steps is also a fix. What the article says is copied as it is, Markdown made
Slack mrkdwn (`**bold**` → `*bold*`, links → their text); the expense tool's name becomes `{tool}` in the
prose. The author rewrites the prose in their own words before removing `draft: true`.
"""

from __future__ import annotations

import csv
import functools
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bot.authoring.draft import MENTION, draft_yaml, example_pastes
from bot.codes import CodeFinder
from bot.kb import KnowledgeBase
from bot.kb.loader import read_text
from bot.kb.prose import TOOL, TOOL_START, escape
from bot.kb.systems import System, Systems, name_words

HELP_SITE = "https://help.expensify.com"  # where INDEX.tsv's `docs/articles/…` pages are published
INDEX_FILE = "INDEX.tsv"


class ArticleError(Exception):
    """The file is not a help article that can be imported (one line: what is missing)."""


# -- Markdown, as the articles write it --------------------------------------------------------------------

@dataclass
class Item:
    text: str
    children: list[str] = field(default_factory=list)


@dataclass
class Block:
    kind: str  # "text" (a paragraph), "steps" (a numbered list), "bullets", "rule" (---)
    text: str = ""
    items: list[Item] = field(default_factory=list)


@dataclass
class Section:
    level: int  # 0: the part before any heading
    heading: str
    blocks: list[Block] = field(default_factory=list)
    children: list[Section] = field(default_factory=list)
    parent: Section | None = field(default=None, repr=False)

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    def has(self, kind: str) -> bool:
        return any(b.kind == kind for b in self.blocks)


_FRONT = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
_FRONT_LINE = re.compile(r"^([A-Za-z_][\w-]*):[ \t]*(.*)$")
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_RULE = re.compile(r"^[ \t]*(?:-[ \t]*){3,}$|^[ \t]*(?:\*[ \t]*){3,}$|^[ \t]*(?:_[ \t]*){3,}$")
_ORDERED = re.compile(r"^([ \t]*)\d{1,3}[.)][ \t]+(.*)$")
_BULLET = re.compile(r"^([ \t]*)[-*+][ \t]+(.*)$")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)(?:\{[^}]*\})?")
_LIQUID = r"\{%[^%]*%\}"   # a site generator's tag: {% include info.html %}
_ATTRS = re.compile(r"\{:[^}]*\}|\{\{[^}]*\}\}|" + _LIQUID)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
# a line of nothing but images, HTML tags and site-generator tags, or a code fence, is not read
_SKIP_LINE = re.compile(rf"^[ \t]*(?:(?>{_IMAGE.pattern}|{_TAG.pattern}|{_LIQUID})[ \t]*)++$|^[ \t]*```.*$")
_TABLE_RULE = re.compile(r"^[ \t]*\|?[ \t:|-]+\|[ \t:|-]*$")


def front_matter(text: str) -> tuple[dict[str, str], str]:
    """The front matter's `key: value` lines, and the rest of the text."""
    m = _FRONT.match(text)
    if not m:
        return {}, text
    front = {}
    for line in m.group(1).splitlines():
        kv = _FRONT_LINE.match(line)
        if kv:
            front[kv.group(1).lower()] = kv.group(2).strip().strip("\"'")
    return front, text[m.end():]


def parse_sections(body: str) -> Section:
    """The Markdown body as a tree of sections (headings), each with its paragraphs and lists."""
    root = Section(0, "")
    current = root
    paragraph: list[str] = []
    lists: Block | None = None
    base_indent = 0

    def last_block() -> Block | None:
        return current.blocks[-1] if current.blocks else None

    def close_paragraph() -> None:
        nonlocal paragraph
        if paragraph:
            current.blocks.append(Block("text", " ".join(paragraph)))
        paragraph = []

    for raw in body.splitlines():
        line = raw.rstrip()
        if _SKIP_LINE.match(line):
            continue
        heading = _HEADING.match(line)
        if heading:
            close_paragraph()
            lists = None
            level = len(heading.group(1))
            parent = current
            while parent.level >= level and parent.parent is not None:
                parent = parent.parent
            if parent.level >= level:
                parent = root
            current = Section(level, heading.group(2).strip(), parent=parent)
            parent.children.append(current)
            continue
        if not line.strip():
            close_paragraph()
            continue
        if _RULE.match(line):
            close_paragraph()
            lists = None
            current.blocks.append(Block("rule"))
            continue
        ordered, bullet = _ORDERED.match(line), _BULLET.match(line)
        item = ordered or bullet
        if item:
            indent = len(item.group(1).expandtabs(4))
            kind = "steps" if ordered else "bullets"
            if lists is not None and lists.items and indent > base_indent:
                lists.items[-1].children.append(item.group(2).strip())
                continue
            close_paragraph()
            if lists is None or lists.kind != kind or lists is not last_block():
                lists = Block(kind)
                current.blocks.append(lists)
                base_indent = indent
            lists.items.append(Item(item.group(2).strip()))
            continue
        if line.lstrip().startswith("|"):
            close_paragraph()
            if _TABLE_RULE.match(line):
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if lists is None or lists.kind != "bullets" or lists is not last_block():
                lists = Block("bullets")
                current.blocks.append(lists)
                base_indent = 0
            lists.items.append(Item(" — ".join(c for c in cells if c)))
            continue
        if lists is not None and lists.items and raw[:1] in (" ", "\t") and not paragraph:
            target = lists.items[-1]
            if target.children:
                target.children[-1] += " " + line.strip()
            else:
                target.text += " " + line.strip()
            continue
        lists = None
        paragraph.append(line.strip())
    close_paragraph()
    return root


_LINK = re.compile(r"\[([^\]]+)\]\([^)\s]+\)")
_ITALIC = re.compile(r"(?<![*\w])\*(?![*\s])(.+?)(?<![*\s])\*(?![*\w])")
_BOLD = re.compile(r"\*\*(?!\s)(.+?)(?<!\s)\*\*|__(?!\s)(.+?)(?<!\s)__")


def inline(text: str) -> str:
    """Markdown inline markup as Slack mrkdwn: `**bold**` → `*bold*`, `*it*` → `_it_`, links and images to
    their text, HTML tags dropped, spaces collapsed."""
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _ATTRS.sub("", text)
    text = _TAG.sub("", text)
    text = text.replace("\\*", "\u2217").replace("\\_", "_")
    text = _ITALIC.sub(r"_\1_", text)
    text = _BOLD.sub(lambda m: f"*{m.group(1) or m.group(2)}*", text)
    return " ".join(text.replace("\u2217", "*").split())


def item_text(item: Item) -> str:
    """A list item with its sub-items: "Confirm the user has: Open books; Closed books"."""
    text = inline(item.text)
    subs = [inline(c) for c in item.children if inline(c)]
    if not subs:
        return text
    joiner = " " if text.endswith(":") else ": " if text and text[-1].isalnum() else " "
    return text + joiner + "; ".join(subs)


def section_text(section: Section, deep: bool = True) -> str:
    """Everything a section (and, `deep`, its subsections) says, as one text: paragraphs, then lists."""
    parts = []
    for s in section.walk() if deep else [section]:
        if s is not section:
            parts.append("")
        for block in s.blocks:
            if block.kind == "text":
                parts.append(inline(block.text))
            elif block.kind == "steps":
                parts.append(" ".join(f"{n}. {_sentence(item_text(i))}" for n, i in enumerate(block.items, 1)))
            elif block.kind == "bullets":
                parts.append("; ".join(item_text(i) for i in block.items) + ".")
    return " ".join(p for p in parts if p).replace(":.", ":").replace("..", ".")


def _sentence(text: str) -> str:
    return text if not text or text[-1] in ".!?:;" else text + "."


# -- the article -------------------------------------------------------------------------------------------

@dataclass
class Article:
    path: Path
    title: str
    front: dict[str, str]
    root: Section
    message: str = ""     # the error as the article quotes it ("" for FAQ and overview pages)
    url: str = ""         # the published article's address, when the article or INDEX.tsv gives it

    @functools.cached_property
    def title_section(self) -> Section | None:
        return _title_section(self)

    @functools.cached_property
    def questions(self) -> list[Section]:
        return _questions(self)


_SEE_THE_ERROR = re.compile(r"\b(?:if you see|you (?:may|might) see|you(?:'ll| will) see|appears?)\b.*\berror\b.*:$",
                            re.IGNORECASE)


def read_article(path: Path) -> Article:
    """The article at `path`; ArticleError when it is not one (not text, no title, nothing to import)."""
    path = Path(path)
    if not path.is_file():
        raise ArticleError(f"{path}: no such file")
    text, problem = read_text(path)
    if problem is not None:   # at a line: a byte that is not UTF-8; of the whole file: its size
        raise ArticleError(f"{path}: not a help article (not UTF-8 text)" if problem.line
                           else f"{problem}, not a help article")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    front, body = front_matter(text)
    root = parse_sections(body)
    first = next((s for s in root.walk() if s.level == 1), None)
    title = inline(front.get("title", "")) or (inline(first.heading) if first else "")
    if not title or not any(s.blocks for s in root.walk()):
        raise ArticleError(f"{path}: not a help article (no title line and '# heading', or no text under its "
                           "headings)")
    article = Article(path, title, front, root, message=_message(root), url=_url(front, _source(path)))
    asks = any(s.heading.rstrip().endswith("?") for s in root.walk())
    if not article.message and not ((front.get("title") or asks) and article.questions):
        raise ArticleError(f"{path}: not a help article (no 'If you see the error:' message, and no front "
                           "matter title or '?' headings over sections to read as a FAQ)")
    return article


def _message(root: Section) -> str:
    for section in root.walk():
        for i, block in enumerate(section.blocks):
            if block.kind == "text" and _SEE_THE_ERROR.search(block.text.strip()):
                following = section.blocks[i + 1:i + 2]
                if following and following[0].kind == "text":
                    return " ".join(following[0].text.strip("`").split())
    return ""


def _source(path: Path) -> str:
    """Where the article comes from, as INDEX.tsv beside it (or a folder or two up) says:
    `docs/articles/…/Export-Errors/INT771-Export-Error.md`; "" when no index lists it."""
    for folder in list(path.resolve().parents)[:3]:
        index = folder / INDEX_FILE
        if not index.is_file():
            continue
        try:
            with index.open(encoding="utf-8", newline="") as handle:
                for row in csv.DictReader(handle, delimiter="\t"):
                    saved = row.get("saved_path") or ""
                    if saved and (folder / saved).resolve() == path.resolve():
                        return row.get("source_path") or ""
        except (OSError, UnicodeDecodeError, csv.Error):
            return ""
    return ""


def _url(front: dict[str, str], source: str) -> str:
    """The article's address: its front matter's, else where its source page is published."""
    for key in ("url", "canonical_url", "canonical", "permalink", "source_url", "link"):
        if re.match(r"^https?://\S+$", front.get(key, "")):
            return front[key]
    if source.startswith("docs/articles/") and source.endswith(".md"):
        return f"{HELP_SITE}/{source.removeprefix('docs/').removesuffix('.md')}"
    return ""


_FAQ_HEADING = re.compile(r"^(?:faqs?|frequently asked questions)$", re.IGNORECASE)
_WHY_HEADING = re.compile(r"^(?:why\b|causes?\b|what causes\b)", re.IGNORECASE)
_PLATFORM = re.compile(r"^(?:on\s+)?(?:web|mobile|desktop|ios|android)$", re.IGNORECASE)


def _title_section(article: Article) -> Section | None:
    """The `# heading` that is the article's title (the first, when the front matter has none)."""
    first = next((s for s in article.root.walk() if s.level == 1), None)
    if first is None or not article.front.get("title") or inline(first.heading).lower() == article.title.lower():
        return first
    return None


def _in_faq(section: Section) -> bool:
    s = section.parent
    while s is not None:
        if _FAQ_HEADING.match(s.heading):
            return True
        s = s.parent
    return False


def _questions(article: Article) -> list[Section]:
    """The sections read as FAQ questions: under a FAQ heading; on a page without a message, also the
    page's own top sections."""
    title = article.title_section
    found = [s for s in article.root.walk() if _in_faq(s) and s.parent is not None
             and _FAQ_HEADING.match(s.parent.heading)]
    if not article.message:
        tops = [s for s in article.root.children if s is not title] + (title.children if title else [])
        found += [s for s in tops if not _FAQ_HEADING.match(s.heading)]
    seen = set()
    return [s for s in found if section_text(s) and not (id(s) in seen or seen.add(id(s)))]


# -- its parts, the KB's way -------------------------------------------------------------------------------

_KEEP_CASE = {"i", "expensify", "concierge", "classic", "new", "oauth", "api", "id", "ids"}
_PROTECTED = r"expensify (?:integration|connect|bundle|card|credit card|report id|classic|sender id)|new expensify|" \
             r"xmlgateway_expensify|[\w.]*expensify\.com"


class Writer:
    """Turns an article's texts into an entry's fields for one system of one KB."""

    def __init__(self, kb: KnowledgeBase, system: System) -> None:
        self.kb = kb
        self.system = system
        self.tool = kb.systems.expense_tool
        self.keep = _KEEP_CASE | {w for s in kb.systems for words in s.names for w in words} | set(
            name_words(" ".join(kb.systems.names)))
        if self.tool:
            self.tool_word = re.compile(rf"(?i:{_PROTECTED})|\b{re.escape(self.tool)}\b")

    def prose(self, text: str) -> str:
        """A text people read (already mrkdwn, see `inline`) with its braces doubled and the expense tool's
        name as {tool} ({Tool} to start a sentence), except in the names of things another product calls
        after it."""
        text = escape(text)
        if not self.tool:
            return text

        def name(m: re.Match) -> str:
            if m.group(0).lower() != self.tool.lower():
                return m.group(0)
            start = not text[:m.start()].strip() or re.search(r"[.!?:]\s*(?:[*_`\"']\s*)?$|^[*_`]$",
                                                               text[:m.start()].rstrip())
            return "{" + (TOOL_START if start else TOOL) + "}"
        return self.tool_word.sub(name, text)

    def heading(self, text: str, prose: bool = True) -> str:
        """A heading in sentence case ("Do I Need to Reopen the Period?" → "Do I need to reopen the
        period?"), system and product names kept."""
        words = inline(text).split(" ")
        out = []
        for i, word in enumerate(words):
            bare = re.sub(r"[^\w]", "", word)
            if i and bare[:1].isupper() and bare[1:].islower() and bare.lower() not in self.keep:
                word = word.replace(bare, bare.lower(), 1)
            out.append(word)
        sentence = " ".join(out)
        return self.prose(sentence) if prose else sentence


def _strip_means(text: str) -> str:
    m = re.match(r"^(?:this|it|that)\s+(?:usually\s+|typically\s+)?means(?:\s+that)?\s+(.+)$", text, re.IGNORECASE)
    if m:
        rest = m.group(1)
        return rest[:1].upper() + rest[1:]
    return text


@dataclass
class Draft:
    id: str
    kind: str
    system: System
    text: str        # the YAML


def build_draft(article: Article, kb: KnowledgeBase, system: System) -> Draft:
    """The draft entry of `article` for `system` of `kb`."""
    w = Writer(kb, system)
    code = kb.codes.leading(article.message) if article.message else ""
    kind = guess_kind(article) if article.message else "faq"
    entry_id = code or topic_id(article, kb, system)
    title_section = article.title_section
    fields: dict = {"id": entry_id, "system": system.name, "kind": kind}
    fields["title"] = w.prose(_entry_title(article.title, system, code))
    fields["summary"] = _summary(article, title_section, w)
    if article.message:
        fields["message"] = _message_placeholders(article.message)
        fields["causes"] = _causes(article, w) or [fields["summary"]]
        fields["fixes"] = _fixes(article, w, [s for s in article.root.walk() if _is_fix_zone(s, article)])
        if not fields["fixes"]:
            raise ArticleError(f"{article.path}: not a help article that can be imported (an error message, but "
                               "no numbered steps to fix it)")
    else:
        fields["fixes"] = _fixes(article, w, [s for q in article.questions for s in q.walk()])
    fields["faq"] = [(w.heading(q.heading), w.prose(section_text(q))) for q in article.questions]
    if kind == "faq" and not fields["faq"]:
        raise ArticleError(f"{article.path}: not a help article (no sections to read as questions)")
    fields["links"] = [(article.title, article.url)] if article.url else []
    fields["examples"] = (example_pastes(fields["message"], kb.codes) if article.message
                          else _faq_examples(article, w, system))
    return Draft(entry_id, kind, system, draft_yaml(**fields))


def _entry_title(title: str, system: System, code: str) -> str:
    """"INT771 Export Error in Sage Intacct Integration" → "INT771 Export Error" (an error page's title)."""
    if code:
        short = re.sub(rf"\s+in\s+(?:the\s+)?{re.escape(system.name)}\b.*$", "", title, flags=re.IGNORECASE)
        if code in short:
            return short
    return title


def _summary(article: Article, title_section: Section | None, w: Writer) -> str:
    blocks = [b for s in ([article.root] + ([title_section] if title_section else [])) for b in s.blocks]
    texts, after_message = [], not article.message
    for block in blocks:
        if block.kind == "rule" and texts:
            break
        if block.kind != "text":
            continue
        raw, text = " ".join(block.text.split()), inline(block.text)
        if article.message and (raw.strip("`") == article.message or _SEE_THE_ERROR.search(raw)):
            after_message = True
            continue
        if after_message and not text.endswith(":"):
            texts.append(_strip_means(text))
        if len(texts) == 2:
            break
    if not texts:
        description = article.front.get("description", "")
        description = re.sub(r"^learn\s+(?:about\s+)?", "", description, flags=re.IGNORECASE)
        texts = [description[:1].upper() + description[1:]] if description else [article.title]
    return w.prose(" ".join(texts))


_NAMED_PLACEHOLDER = re.compile(r"([A-Za-z][\w/-]*(?:[ \t]+[A-Za-z][\w/-]*)?)?([ \t(]*)\[([XYZN]+|MM/dd/yyyy)\]",
                                re.IGNORECASE)
_QUALIFIED = {"id", "number", "key", "item", "line", "rule", "card", "type", "name", "code"}
_NOT_A_NAME = {"for", "to", "the", "of", "with", "a", "an", "and", "or", "in", "on", "at", "from", "by", "as", "is"}


def _message_placeholders(message: str) -> str:
    """The article's `[X]`, `[XXX]` placeholders named the KB's way by the word before them: "element [X]" →
    "element [element]", "Error ID [XXXX]" → "Error ID [error ID]"; `[MM/dd/yyyy]` → `[date]`."""
    def named(m: re.Match) -> str:
        before, gap, inner = m.group(1) or "", m.group(2), m.group(3)
        if "yyyy" in inner.lower():
            return f"{before}{gap}[date]"
        words = [x for x in re.split(r"[ \t]+", before) if x]
        last = words[-1].lower() if words else ""
        if not last or last in _NOT_A_NAME or "(" in gap:
            name = "ID" if last == "id" else "value"
        elif last in _QUALIFIED and len(words) > 1 and words[-2].lower() not in _NOT_A_NAME:
            name = f"{words[-2].lower()} {'ID' if last == 'id' else last}"
        else:
            name = "ID" if last == "id" else last.split("/")[0]
        return f"{before}{gap}[{name}]"
    message = re.sub(r"\b([A-Z]{2,})-\[([XYZN]+)\]", r"[\1 number]", message)  # "VEN-[XXXXXX]"
    return _NAMED_PLACEHOLDER.sub(named, message)


def guess_kind(article: Article) -> str:
    """export, sync, connection or auth, from what the page says: a message about OAuth or authentication is
    `auth`; "Export Error" or "Sync Error" in the title (or the message's head) is that kind; otherwise a
    page about the connection (connect, connection, Web Connector) is `connection`, one about syncing
    `sync`, any other `export`."""
    message, title = article.message, article.title
    head = message.split(":", 1)[0] if ":" in message else ""
    about = " ".join((title, message, article.front.get("description", "")))
    if re.search(r"\boauth\b|authenticat|authoriz", message, re.IGNORECASE):
        return "auth"
    for kind in ("export", "sync"):
        if re.search(rf"\b{kind} error\b", f"{title} {head}", re.IGNORECASE):
            return kind
    if re.search(r"\bconnect", about, re.IGNORECASE):
        return "connection"
    if re.search(r"\bsync", f"{title} {message}", re.IGNORECASE):
        return "sync"
    return "export"


def topic_id(article: Article, kb: KnowledgeBase, system: System) -> str:
    """`<SYSTEM-PREFIX>-<TOPIC>` for a page without a code: the prefix the KB's other such entries of the
    system use (INTACCT-…), else the system's first one-word name (systems.yaml); the topic from the file's
    name without the system's names (Sage-Intacct-FAQ.md → INTACCT-FAQ), else from its title."""
    prefix = system_prefix(kb, system)
    drop = {w for words in system.names for w in words} | set(name_words(system.name)) | {"md"}
    for source in (article.path.stem, article.title):
        words = [w for w in name_words(source) if w not in drop]
        if words:
            return "-".join([prefix, *(w.upper() for w in words[:5])])
    return f"{prefix}-FAQ"


def system_prefix(kb: KnowledgeBase, system: System) -> str:
    used = Counter(e.id.split("-")[0] for e in [*kb, *kb.drafts.values()]
                   if e.system == system.name and "-" in e.id and not kb.codes.leading(e.id))
    if used:
        return used.most_common(1)[0][0]
    one_word = next((words[0] for words in system.names if len(words) == 1), "")
    return re.sub(r"[^A-Z0-9]", "", (one_word or system.name).upper()) or "KB"


def _is_fix_zone(section: Section, article: Article) -> bool:
    """A section of an error page that may hold fix steps: not the title's, a cause's or a FAQ's."""
    if section.level == 0 or section is article.title_section or _FAQ_HEADING.match(section.heading):
        return False
    s = section
    while s is not None:
        if _WHY_HEADING.match(s.heading) or _in_faq(s) and s.parent is not None:
            return False
        s = s.parent
    return not _in_faq(section)


def _causes(article: Article, w: Writer) -> list[str]:
    causes: list[str] = []
    for section in article.root.walk():
        if not _WHY_HEADING.match(section.heading) or _in_faq(section):
            continue
        for s in section.walk():
            for block in s.blocks:
                if block.kind == "text" and not block.text.rstrip().endswith(":"):
                    causes.append(w.prose(inline(block.text)))
                elif block.kind in ("bullets", "steps"):
                    causes += [w.prose(_sentence(item_text(i))) for i in block.items]
        break
    return [c for c in dict.fromkeys(causes) if c]


def _fixes(article: Article, w: Writer, sections: list[Section]) -> list[tuple[str, list[str], str]]:
    """Each numbered list of `sections` as a fix titled by its heading (a platform heading, "On Web", after
    its parent's: "Sync the workspace (on web)"; a short "On mobile:" line before one of several lists after
    it); the sentences after a list are its note. On an error page, a section of bullets alone is a fix too."""
    fixes: list[tuple[str, list[str], str]] = []
    for section in sections:
        kind = "steps" if section.has("steps") else "bullets" if (
            article.message and section.has("bullets")) else ""
        if not kind:
            continue
        title = w.heading(section.heading)
        if _PLATFORM.match(section.heading) and section.parent is not None and section.parent.heading:
            title = f"{w.heading(section.parent.heading)} ({section.heading.lower()})"
        several = sum(b.kind == kind for b in section.blocks) > 1
        mine: list[list] = []  # [title, steps, notes]
        label = ""
        for block in section.blocks:
            if block.kind == "text":
                text = inline(block.text)
                if text.endswith(":") and len(text.split()) <= 8:
                    label = text[:-1]
                elif mine:
                    mine[-1][2].append(w.prose(text))
            elif block.kind == kind:
                steps = [s for s in dict.fromkeys(w.prose(_sentence(item_text(i))) for i in block.items) if s]
                name = f"{title} ({label[:1].lower() + label[1:]})" if label and several else title
                mine.append([name, steps, []])
                label = ""
        fixes += [(name, steps, " ".join(notes)) for name, steps, notes in mine if steps]
    return fixes


def _faq_examples(article: Article, w: Writer, system: System) -> list[str]:
    """Questions as people would ask them, each naming the system (a question only reaches the FAQ of a
    system it names): the page's questions, in three shapes."""
    asked = []
    for q in article.questions:
        text = w.heading(q.heading, prose=False).replace("{", "").replace("}", "")
        if w.kb.codes.find(text):
            continue
        if system.name not in w.kb.systems.named_in(name_words(text)):
            text = f"{text.rstrip('?').rstrip()} in {system.name}?"
        asked.append(text if text.endswith("?") else text + "?")
    asked = asked or [f"{article.title.rstrip('?')}?"]
    shapes = [asked[0]]
    if len(asked) > 1:
        shapes.append(asked[1][:1].lower() + asked[1][1:])
    shapes.append(f"{MENTION} {asked[2] if len(asked) > 2 else asked[0].lower()}")
    shapes += asked[3:4]
    shapes.append(f"quick question: {asked[0].lower()}")
    return list(dict.fromkeys(shapes))[:max(3, len(asked[:4]))]


# -- which system ------------------------------------------------------------------------------------------

def find_system(article: Article, systems: Systems, codes: CodeFinder, named: str = "") -> System:
    """The system the article is about: `named` (a system's name, folder or a name people use for it), else
    the family of the message's code, else a folder of the article's path, else the one system its title
    names. ArticleError when none."""
    code = codes.leading(article.message) if article.message else ""
    if named:
        system = system_named(named, systems)
        if system is None:
            raise ArticleError(f"--system {named!r} is not a system of systems.yaml: write one of "
                               f"{', '.join(systems.names)}")
        if code and system.prefix and not code.startswith(system.prefix):
            raise ArticleError(f"--system {system.name}: the article's code {code} is not a {system.name} code")
        return system
    if code:
        system = systems.of_code(code)
        if system is not None:
            return system
    folders = {s.folder.lower(): s for s in systems}
    for part in reversed(article.path.resolve().parts[:-1]):
        if part.lower() in folders:
            return folders[part.lower()]
    found = systems.named_in(name_words(article.title))
    if len(found) == 1:
        return systems.get(found.pop())
    raise ArticleError(f"{article.path}: cannot tell which system the article is about: pass --system NAME")


def system_named(named: str, systems: Systems) -> System | None:
    wanted = named.strip().lower()
    for system in systems:
        if wanted in (system.name.lower(), system.folder.lower()):
            return system
    found = systems.named_in(name_words(named))
    return systems.get(found.pop()) if len(found) == 1 else None
