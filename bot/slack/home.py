"""The App Home tab: search and browse the knowledge base, what was answered lately, what was missed."""

from __future__ import annotations

from bot.authoring.gaps import Gaps
from bot.pipeline import Fixit
from bot.render.renderer import split_text
from bot.render.slack_text import entry_line, escape
from bot.store import Store
from bot.wording import counted

SEARCH = "fixit_home_search"
SYSTEM = "fixit_home_system"
SHOW = "fixit_home_show"
MAX_HOME_BLOCKS = 100


def home_view(fixit: Fixit, store: Store, query: str = "", system: str = "", show: str = "",
              team: str | None = None, gaps: Gaps | None = None) -> dict:
    """`team`: whose statistics to show (None: every team's, for one-workspace tools); `gaps`: the knowledge
    base's gaps, shown to its keepers (FIXIT_KB_ADMINS)."""
    systems = sorted({e.system for e in fixit.kb})
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Fixit"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": (
            "I explain accounting-export errors. Paste one in a channel I'm in, mention me, use `/fixit`, "
            "or search here.")}},
        {"type": "input", "block_id": "fixit_home_search_block", "dispatch_action": True,
         "label": {"type": "plain_text", "text": "Search by code or words"},
         "element": {"type": "plain_text_input", "action_id": SEARCH,
                     **({"initial_value": query[:150]} if query else {}),
                     "placeholder": {"type": "plain_text", "text": "INT771, or: batches closed"}}},
        {"type": "actions", "block_id": "fixit_home_browse", "elements": [{
            "type": "static_select", "action_id": SYSTEM,
            "placeholder": {"type": "plain_text", "text": "Browse by system"},
            "options": [{"text": {"type": "plain_text", "text": s}, "value": s} for s in systems]}]},
    ]
    entry = fixit.kb.get(show) if show else None
    if entry:
        blocks += [{"type": "divider"}, *fixit.card(entry.id, full=True).blocks[:40]]
    elif query:
        ids = fixit.search(query)
        blocks.append({"type": "divider"})
        if not ids:
            blocks.append(_text(f"Nothing found for “{escape(query[:100])}”."))
        for entry_id in ids:
            e = fixit.kb.get(entry_id)
            blocks.append({**_text(f"*{escape(e.id)}*: {escape(e.title)}\n{escape(e.summary)[:280]}"),
                           "accessory": {"type": "button", "text": {"type": "plain_text", "text": "Show"},
                                         "action_id": SHOW, "value": e.id}})
    elif system:
        entries = sorted((e for e in fixit.kb if e.system == system), key=lambda e: (e.is_faq, e.id))
        lines = "\n".join(map(entry_line, entries))
        blocks += [{"type": "divider"}, _text(f"*{escape(system)}*: {counted(len(entries), 'entry', 'entries')}")]
        blocks += [_text(chunk) for chunk in split_text(lines, 2900)]
    top = store.most_answered(days=7, team=team)
    blocks += [{"type": "divider"}, _text("*Most answered, last 7 days*\n" + (
        "\n".join(f"{n}× *{escape(i)}*" + (f": {escape(fixit.kb.get(i).title)}" if fixit.kb.get(i) else "")
                  for i, n in top) or "Nothing yet."))]
    blocks.append(_text(f"*Pastes that matched nothing, last 7 days:* {store.unmatched_count(days=7, team=team)}"))
    if gaps is not None:
        blocks += gaps_blocks(gaps)
    return {"type": "home", "blocks": blocks[:MAX_HOME_BLOCKS]}


def gaps_blocks(gaps: Gaps, clusters: int = 5) -> list[dict]:
    """For the knowledge base's keepers: the biggest clusters of unmatched pastes, unknown codes, 👎 answers."""
    blocks = [{"type": "divider"}, _text(f"*Knowledge gaps, last {gaps.days} days* (for the knowledge base's "
                                         f"keepers; `python -m bot kb gaps` has them all)")]
    for cluster in gaps.clusters[:clusters]:
        closest = f" · closest: *{escape(cluster.closest.id)}*" if cluster.closest else ""
        codes = f" · {', '.join(map(escape, cluster.codes[:3]))}" if cluster.codes else ""
        blocks.append(_text(f"*{counted(cluster.count, 'paste')}*, {cluster.first_seen} – {cluster.last_seen}"
                            f"{codes}{closest}\n>{escape(cluster.samples[0][:280])}"))
    if not gaps.clusters:
        blocks.append(_text("No pastes went unmatched."))
    if gaps.unknown_codes:
        blocks.append(_text("*Codes I don't know:* " + ", ".join(
            f"{escape(u.code)} ×{u.count}" for u in gaps.unknown_codes[:10])))
    if gaps.voted_down:
        blocks.append(_text("*Answers voted 👎 Not it:* " + ", ".join(
            f"{escape(v.entry_id)} ×{v.down}" for v in gaps.voted_down[:10])))
    return blocks


def _text(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}
