"""Cards: Block Kit within Slack's limits, escaped mrkdwn, templates in the sandbox."""

from __future__ import annotations

import dataclasses
import html

import pytest

from bot.kb import Entry, Fix
from bot.render import Renderer, RenderError
from bot.render.renderer import MAX_BLOCKS, MAX_SECTION_CHARS


def test_int771_card_has_summary_causes_numbered_fixes_faq_and_link(kb):
    card = Renderer().card(kb.get("INT771"))
    assert card.blocks[0]["type"] == "header"
    assert card.blocks[0]["text"]["text"] == "INT771 Export Error"
    text = card.text
    for part in ("What it means", "Why it happens", "Fix 1: Give the integration user Open and Closed books",
                 "1. Sign in to Sage Intacct", "Fix 2: Export on the Exported date instead", "FAQ",
                 "help.expensify.com"):
        assert part in text
    assert "<https://help.expensify.com/" in card.mrkdwn  # a real Slack link in the posted form


def test_every_entry_renders_within_block_kit_limits(kb):
    renderer = Renderer()
    for entry in kb:
        card = renderer.card(entry, 0 if entry.is_faq else -1)
        assert 1 < len(card.blocks) <= MAX_BLOCKS, entry.id
        for block in card.blocks:
            if block["type"] == "section":
                assert 0 < len(block["text"]["text"]) <= MAX_SECTION_CHARS
        assert len(card.blocks[0]["text"]["text"]) <= 150


def test_text_is_escaped_and_broadcasts_defused(kb):
    entry = dataclasses.replace(kb.get("INT771"), summary="Costs <$5 & more > <!channel> @here <@U123>")
    card = Renderer().card(entry)
    section = next(b["text"]["text"] for b in card.blocks if "Costs" in b["text"]["text"])
    assert "&lt;$5 &amp; more &gt;" in section
    assert "<!channel>" not in card.mrkdwn and "<@U123>" not in card.mrkdwn
    assert "@here" not in card.mrkdwn.replace("@\u200dhere", "")


def test_huge_entry_is_split_into_sections_and_capped(kb):
    steps = tuple(f"Step {i} " + "x" * 400 for i in range(40))
    entry = dataclasses.replace(kb.get("INT771"), fixes=tuple(Fix(f"Fix {i}", steps) for i in range(60)))
    card = Renderer().card(entry)
    assert len(card.blocks) == MAX_BLOCKS
    assert card.blocks[-1]["type"] == "context"
    assert all(len(b["text"]["text"]) <= MAX_SECTION_CHARS for b in card.blocks if b["type"] == "section")


def test_faq_card_puts_the_question_asked_first(kb):
    entry = kb.get("INTACCT-FAQ")
    card = Renderer().card(entry, 3)
    assert card.sections[0].startswith(f"*{entry.faq[3].q}*")


def test_entry_may_name_its_own_template(tmp_path, kb):
    (tmp_path / "short.j2").write_text("{{ entry.title }}\n---\nOnly {{ entry.summary }}", encoding="utf-8")
    entry = dataclasses.replace(kb.get("INT771"), template="short.j2")
    card = Renderer(tmp_path).card(entry)
    assert card.sections == [f"Only {entry.summary}"]


def test_template_errors_are_one_line_with_file_and_line(tmp_path, kb):
    (tmp_path / "broken.j2").write_text("{{ entry.title }}\n---\n{% for x in %}\n", encoding="utf-8")
    (tmp_path / "failing.j2").write_text("ok\n---\n{{ entry.nope }}\n", encoding="utf-8")
    renderer = Renderer(tmp_path)
    with pytest.raises(RenderError, match=r"broken\.j2:3"):
        renderer.card(dataclasses.replace(kb.get("INT771"), template="broken.j2"))
    with pytest.raises(RenderError, match=r"failing\.j2:3: .*nope"):
        renderer.card(dataclasses.replace(kb.get("INT771"), template="failing.j2"))
    assert "missing.j2" in renderer.check_template(dataclasses.replace(kb.get("INT771"), template="missing.j2"))


def test_sandbox_blocks_unsafe_template_code(tmp_path, kb):
    (tmp_path / "evil.j2").write_text("{{ entry.__class__.__mro__[1].__subclasses__() }}", encoding="utf-8")
    with pytest.raises(RenderError):
        Renderer(tmp_path).card(dataclasses.replace(kb.get("INT771"), template="evil.j2"))


def test_minimal_entry_renders():
    entry = Entry(id="X1", title="X1", system="Xero", kind="export", summary="s", message="m",
                  causes=("c",), fixes=(Fix("f", ("a",)),), examples=("a", "b", "c"))
    assert "1. a" in Renderer().card(entry).text


def test_a_broken_entry_template_falls_back_to_the_default_card(kb, tmp_path):

    from conftest import write_entry

    from bot.kb import load_knowledge_base
    from bot.pipeline import Fixit

    entry_text = (kb.get("INT771").source).read_text(encoding="utf-8") + "template: missing.j2\n"
    write_entry(tmp_path, "si/INT771.yaml", entry_text)
    fixit = Fixit(load_knowledge_base(tmp_path))
    reply = fixit.reply("INT771")
    assert reply.cards and "1. Sign in to Sage Intacct" in reply.cards[0].text


def test_a_server_renders_every_card_when_the_kb_loads(kb, tmp_path, caplog):
    """The Slack runtime pre-renders: a broken template shows in the log at load, before any paste."""
    import logging

    from conftest import write_entry

    from bot.kb import load_knowledge_base
    from bot.pipeline import Fixit

    write_entry(tmp_path, "si/INT771.yaml", kb.get("INT771").source.read_text(encoding="utf-8")
                + "template: missing.j2\n")
    write_entry(tmp_path, "si/INT035.yaml", kb.get("INT035").source.read_text(encoding="utf-8"))
    with caplog.at_level(logging.ERROR, logger="fixit"):
        fixit = Fixit(load_knowledge_base(tmp_path)).prerendered()
    assert "INT771" in caplog.text and "missing.j2" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="fixit"):
        assert "1. Sign in to Sage Intacct" in fixit.reply("INT771").cards[0].text
    assert caplog.text == ""  # answered from the card rendered at load


def test_every_cards_first_screen_is_short_and_leads_with_its_first_fix(kb):
    renderer = Renderer()
    lengths = []
    for entry in kb:
        brief, full = renderer.brief(entry), renderer.card(entry)
        lines = brief.text.splitlines()
        lengths.append(len(lines))
        assert len(lines) <= 25, entry.id
        if brief.short:   # something is left for the full card, and the first screen says what
            assert "On the full card:" in brief.text and len(lines) < len(full.text.splitlines()), entry.id
        if entry.fixes and not entry.is_faq:
            assert f"1. {entry.fixes[0].steps[0]}"[:40] in html.unescape(brief.text), entry.id
            assert all(f"*{fix.title}*" not in brief.text for fix in entry.fixes[1:]), entry.id
    assert sorted(lengths)[len(lengths) // 2] <= 15


def test_a_faq_pages_first_screen_is_the_question_asked(kb):
    entry = kb.get("QBO-FAQ")
    brief = Renderer().brief(entry, faq_index=1)
    assert brief.text.splitlines()[2] == f"*{entry.faq[1].q}*" and "Also answered here" in brief.text
