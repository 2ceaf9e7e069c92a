"""The evidence about one message, gathered from every path, as numbers the decision weighs.

For each candidate entry (its code is mentioned, the paste path aligned it with the message, or
retrieval ranked it near the top) one row of features: how its code was written and what surrounds it,
what the paste path made of the message, how well retrieval matched it and by how far it leads, whether
the message asks or reports trouble, and which systems it names.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from bot.codes import HYPHENATED, LOWER, OCR, SHORT, SPACED, CodeMention
from bot.kb import KnowledgeBase
from bot.kb.language import first_word_positions
from bot.match.hit import Hit
from bot.match.limits import MAX_WORDING_CHARS
from bot.match.retrieval import Found

FEATURES = (
    "code_canonical",     # its code written the canonical way (INT771, NS0012:)
    "code_other_form",    # written another way (int 771, INT-771, NS885), one of:
    "code_spaced",        # ... INT 771
    "code_hyphenated",    # ... INT-771, CER_091
    "code_lower",         # ... int771, int 771, desk-15
    "code_short",         # ... NS885
    "code_misread",       # ... lNT592 (OCR)
    "code_word_prefix",   # ... its prefix is an everyday word ("desk", language.yaml)
    "code_error_line",    # ... on a line that talks about an error
    "code_alone",         # ... and nothing else was written
    "code_not_a_code",    # ... on a line with words that say it is something else (desk, flight, jira)
    "code_a_code",        # ... next to words that say it is an error code (again, getting, report)
    "unknown_code",       # the message holds a code the KB does not know
    "paste_message",      # the paste path found the entry's message in the text, surely
    "paste_question",     # the paste path matched one of its FAQ questions, surely
    "paste_close",        # the paste path found it close (a "did you mean")
    "paste_score",        # the paste path's score, 0-1
    "paste_rivals",       # other entries the paste path found close or sure (up to 2), /2
    "faq_similarity",     # how close the text is to the entry's nearest FAQ question (the question matcher's)
    "retr_share",         # retrieval score over the best any entry could have for this message
    "retr_top",           # retrieval ranks it first
    "retr_lead",          # its lead over the next entry (first), or its gap to the first, share of score
    "retr_weight",        # IDF of the words it shares, /10
    "retr_words",         # distinct words it shares (up to 8), /8
    "retr_pairs",         # adjacent word pairs it shares (up to 5), /5
    "retr_cover",         # share of the message's words it shares
    "query_words",        # log(1 + distinct words retrieval read that the KB uses), up to LONG
    "query_known",        # share of those words the KB uses (noise and other topics use few)
    "asks",               # a question or a statement of trouble (`asks_for_help`)
    "question_mark",
    "trouble",            # words of trouble (language.yaml), up to 3, /3
    "names_its_system",   # the message names the entry's system
    "names_other_system",  # it names a system, not the entry's
    "is_faq",
    "length",             # log(1 + words)
)

FORM_FEATURE = {SPACED: "code_spaced", HYPHENATED: "code_hyphenated", LOWER: "code_lower", SHORT: "code_short",
                OCR: "code_misread"}
_WORDS = re.compile(r"[a-z0-9']+")
NEAR_WORDS = 4  # words either side of a code mention read for what says it is a code
LINE_CHARS = 400  # of a mention's line, read for what says it is something else
TIED = 0.95    # a close message whose paste score is this near another's is tied with it
LONG = 60       # words: a longer message counts as this long (a weight on length must not grow without
                # bound on a paste longer than any the model was fitted on)


@dataclass
class Candidate:
    entry_id: str
    features: dict[str, float]
    hit: Hit | None = None          # the paste path's hit, when it had one
    paste: bool = False             # evidence that the text holds this error itself (code or message)
    canonical: bool = False         # its code is written the canonical way: answered on its own
    tied: bool = False              # the paste path found another message as close as this one
    paste_sure: bool = False        # the paste path answered it (its code, or its message or question surely)


@dataclass
class Evidence:
    text: str
    candidates: list[Candidate] = field(default_factory=list)
    found: Found | None = None
    systems: set[str] = field(default_factory=set)
    unknown_codes: list[str] = field(default_factory=list)


def phrase_count(words: list[str], by_first: dict[str, tuple[tuple[str, ...], ...]]) -> int:
    """How many times any of the phrases occurs in the word sequence (at most once per word it starts at).
    `by_first`: the phrases by first word (`phrases_by_first_word`)."""
    count = 0
    for i in first_word_positions(words, by_first):
        for phrase in by_first[words[i]]:
            if tuple(words[i:i + len(phrase)]) == phrase:
                count += 1
                break
    return count


def gather(kb: KnowledgeBase, text: str, cleaned: str, mentions: list[CodeMention], code_entries: dict[str, str],
           pasted, found: Found, systems: set[str], asks: bool, candidates: int) -> Evidence:
    """One row of features per candidate entry. `pasted`: what the paste path made of the text (its
    MatchResult)."""
    paste_answers, paste_suggestions, unknown_codes = pasted.answers, pasted.suggestions, pasted.unknown_codes
    words = _WORDS.findall(cleaned[:MAX_WORDING_CHARS].lower().replace("\u2019", "'"))
    trouble = phrase_count(words, kb.language.trouble_by_first_word)
    language = kb.language
    not_a_code, a_code, everyday = language.not_a_code_words, language.a_code_words, language.everyday_prefix_words
    ranked = found.ranked
    top = ranked[0][1] if ranked else 0.0
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    scores = dict(ranked)

    # a code OCR misread counts only where the words point at the same entry: in noise, or in a word
    # that happens to read as one ("NSO988"), it would be a guess
    near_the_words = {h.entry_id for h in paste_answers + paste_suggestions} | {e for e, _ in ranked[:3]}
    mentions = [m for m in mentions if m.form != OCR or code_entries.get(m.code) in near_the_words]
    order: dict[str, None] = {}
    for hit in paste_answers + paste_suggestions:
        order.setdefault(hit.entry_id, None)
    for entry_id, _ in sorted(pasted.question_scores.items(), key=lambda es: es[1], reverse=True)[:2]:
        order.setdefault(entry_id, None)
    for mention in mentions:
        if mention.code in code_entries:
            order.setdefault(code_entries[mention.code], None)
    for entry_id, _ in ranked[:candidates]:
        order.setdefault(entry_id, None)

    shared = {
        "unknown_code": float(bool(unknown_codes)),
        "query_words": math.log1p(min(found.known, LONG)),
        "query_known": found.known / max(found.words, 1),
        "asks": float(asks),
        "question_mark": float("?" in text),
        "trouble": min(trouble, 3) / 3,
        "length": math.log1p(min(len(words), LONG)),
    }
    evidence = Evidence(text, found=found, systems=systems, unknown_codes=unknown_codes)
    for entry_id in order:
        entry = kb.get(entry_id)
        f = dict.fromkeys(FEATURES, 0.0)
        f.update(shared)
        paste = False
        for mention in mentions:
            if code_entries.get(mention.code) != entry_id:
                continue
            paste = True
            if mention.canonical:
                f["code_canonical"] = 1.0
                continue
            f["code_other_form"] = 1.0
            f[FORM_FEATURE[mention.form]] = 1.0
            if mention.code.rstrip("0123456789").lower() in everyday:
                f["code_word_prefix"] = 1.0
            f["code_error_line"] = max(f["code_error_line"], float(mention.error_line))
            f["code_alone"] = float(mention.alone)
            before = _WORDS.findall(cleaned[max(0, mention.start - 60):mention.start].lower())[-NEAR_WORDS:]
            after = _WORDS.findall(cleaned[mention.end:mention.end + 60].lower())[:NEAR_WORDS]
            near = set(before + after)
            line_start = cleaned.rfind("\n", 0, mention.start) + 1
            line_end = cleaned.find("\n", mention.end)
            line = _WORDS.findall(cleaned[line_start:line_end if line_end >= 0 else len(cleaned)][:LINE_CHARS].lower())
            if not_a_code & set(line):
                f["code_not_a_code"] = 1.0
            if a_code & near:
                f["code_a_code"] = 1.0
        hit = None
        for h in paste_answers:
            if h.entry_id == entry_id and h.how != "code":
                hit = h
                f["paste_message"] = float(h.how == "message")
                f["paste_question"] = float(h.how == "question")
                f["paste_score"] = h.score / 100
                paste = paste or h.how == "message"
        for h in paste_suggestions:
            if h.entry_id == entry_id:
                hit = hit or h
                f["paste_close"] = 1.0
                f["paste_score"] = max(f["paste_score"], h.score / 100)
        rivals = {h.entry_id for h in paste_answers + paste_suggestions if h.how != "code"} - {entry_id}
        f["paste_rivals"] = min(len(rivals), 2) / 2
        f["faq_similarity"] = pasted.question_scores.get(entry_id, 0.0)
        score = scores.get(entry_id, 0.0)
        is_top = bool(ranked) and ranked[0][0] == entry_id
        f["retr_share"] = score / found.best_possible
        f["retr_top"] = float(is_top)
        f["retr_lead"] = (score - second) / (score + 1e-9) if is_top else (score - top) / (top + 1e-9)
        f["retr_weight"] = found.matched_weight.get(entry_id, 0.0) / 10
        f["retr_words"] = min(found.matched.get(entry_id, 0), 8) / 8
        f["retr_pairs"] = min(found.pairs.get(entry_id, 0), 5) / 5
        f["retr_cover"] = found.matched.get(entry_id, 0) / max(found.words, 1)
        f["names_its_system"] = float(entry.system in systems)
        f["names_other_system"] = float(bool(systems) and entry.system not in systems)
        f["is_faq"] = float(entry.is_faq)
        sure = any(h.entry_id == entry_id for h in paste_answers)
        tied = hit is not None and any(h.entry_id != entry_id and h.score >= TIED * hit.score
                                       for h in paste_suggestions)
        evidence.candidates.append(Candidate(entry_id, f, hit, paste=paste, canonical=bool(f["code_canonical"]),
                                             tied=tied, paste_sure=sure))
    return evidence
