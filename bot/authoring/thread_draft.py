"""A KB draft from a solved Slack thread ("Save as a KB draft"): the error from the thread's first message,
with placeholders for what varies, and the replies that resolved it as the fix's steps. The author then
writes the prose (summary, causes) and removes `draft: true`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.authoring.draft import draft_yaml, example_pastes, placeholders
from bot.kb import KnowledgeBase
from bot.kb.systems import name_words
from bot.match import Matcher
from bot.match.normalize import clean

MAX_STEPS = 12
MAX_STEP_CHARS = 400
MAX_MESSAGE_CHARS = 600
# a reply that thanks, agrees or reports back ("thanks, that did it", "+1", "trying now") is not a step
_CHATTER = re.compile(r"^(?:thanks?\b|thank you|thx\b|ty\b|cheers\b|\+1|that (?:did it|worked|fixed it)|"
                      r"(?:ok(?:ay)?|cool|great|nice|same(?: here)?|works?(?: now)?|perfect|yes|yep|no|nope|"
                      r"will try|trying now)\W*$)", re.I)
_KINDS = (("sync", "sync"), ("connect", "connection"), ("credential", "auth"), ("password", "auth"),
          ("export", "export"))


@dataclass(frozen=True)
class ThreadDraft:
    entry_id: str
    system: str
    yaml: str


def draft_from_thread(kb: KnowledgeBase, matcher: Matcher, first: str, replies: list[str],
                      link: str = "") -> ThreadDraft:
    """`first`: the thread's first message (the error as pasted); `replies`: the people's replies, in order
    (Fixit's own answers left out by the caller); `link`: the thread's permalink, kept in the summary."""
    error = clean(first).strip()[:MAX_MESSAGE_CHARS]   # clean() drops the <@U…> mentions
    mention = next((m for m in kb.codes.find(error) if m.exact_width), None)
    code = mention.code if mention else ""
    if mention is not None:   # the error starts at its code ("getting NS9917 Export Error: …")
        error = error[mention.start:]
    system = _system_of(kb, matcher, code, error)
    lower = error.lower()
    kind = next((k for word, k in _KINDS if word in lower), "export")
    message = placeholders(error, kb.codes)
    steps = [placeholders(clean(r).strip()[:MAX_STEP_CHARS], kb.codes) for r in replies]
    # a question in the thread ("did you check the subsidiary?") is not a step that fixed it
    steps = [s for s in steps if s and not _CHATTER.match(s) and not s.rstrip().endswith("?")][-MAX_STEPS:]
    source = f" (from the Slack thread {link})" if link else " (from a Slack thread)"
    entry_id = code or "DRAFT-" + re.sub(r"[^A-Z0-9]+", "-", " ".join(lower.split()[:4]).upper()).strip("-")[:40]
    text = draft_yaml(
        entry_id, f"{code} Error" if code else error[:80], system, kind,
        f"TO WRITE: what the error means{source}.", message=message,
        causes=["TO WRITE: why it happens."],
        fixes=[("What resolved it in the thread", steps or ["TO WRITE: the steps that fixed it."])],
        examples=example_pastes(message, kb.codes))
    return ThreadDraft(entry_id, system, text)


def _system_of(kb: KnowledgeBase, matcher: Matcher, code: str, error: str) -> str:
    """The code's family's system, else the system of the entry closest to the error, else the one it names."""
    family = kb.systems.of_code(code) if code else None
    if family is not None:
        return family.name
    result = matcher.match(error)
    closest = next((kb.get(h.entry_id) for h in [*result.answers, *result.suggestions]), None)
    if closest is not None:
        return closest.system
    named = kb.systems.named_in(name_words(error))
    return sorted(named)[0] if named else kb.systems.names[0]


def write_draft(folder: Path, draft: ThreadDraft) -> Path:
    """`folder/ID.yaml`, or `ID-2.yaml`… when a draft of that id is already waiting there."""
    folder.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9-]+", "-", draft.entry_id).strip("-") or "DRAFT"
    for n in range(1, 1000):
        path = folder / (f"{name}.yaml" if n == 1 else f"{name}-{n}.yaml")
        try:
            with open(path, "x", encoding="utf-8") as out:   # never over another keeper's draft
                out.write(draft.yaml)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"{folder}: too many drafts of {name}")
