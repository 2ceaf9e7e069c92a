"""Accuracy on the labelled dev sets: realistic pastes answered exactly, chatter left silent.

The generated set comes from tests/data/make_devset.py (rerun it after changing the KB); the
hand-written pastes and the dev chatter were written by people, not from the KB files.
"""

from __future__ import annotations

from conftest import DATA

from bot.authoring.evaluate import evaluate

PASTE_TARGET = 0.99
SILENCE_TARGET = 0.995


def test_generated_dev_set(matcher):
    report = evaluate(matcher, DATA / "devset_generated.jsonl")
    assert report.bad_lines == []
    assert report.pastes.total > 1000 and report.chatter.total >= 400
    assert report.pastes.rate >= PASTE_TARGET, report.failures[:20]
    assert report.chatter.rate >= SILENCE_TARGET, report.failures[:20]
    for kind, tally in report.by_kind.items():
        assert tally.rate >= 0.97, (kind, [f for f in report.failures if f"[{kind}]" in f][:10])


def test_handwritten_pastes(matcher):
    report = evaluate(matcher, DATA / "dev_pastes_handwritten.jsonl")
    assert report.bad_lines == []
    assert report.pastes.total >= 250
    assert report.pastes.rate >= PASTE_TARGET, report.failures


def test_generated_set_is_current(kb):
    """The committed generated set matches what the generator makes from today's KB."""
    import subprocess
    import sys
    fresh = subprocess.run([sys.executable, str(DATA / "make_devset.py")], capture_output=True, check=True).stdout
    assert fresh.decode() == (DATA / "devset_generated.jsonl").read_text(encoding="utf-8"), \
        "rerun: python tests/data/make_devset.py > tests/data/devset_generated.jsonl"


def test_heldout_set(matcher):
    """Written by someone who saw neither the matcher nor the other sets (see the session notes for the
    score it had before any tuning: 98.5 %, all misses on questions quoting a part of the error)."""
    report = evaluate(matcher, DATA / "heldout.jsonl")
    assert report.bad_lines == []
    assert report.pastes.total >= 330 and report.chatter.total >= 120
    assert report.pastes.rate >= PASTE_TARGET, report.failures
    assert report.chatter.rate >= SILENCE_TARGET, report.failures
