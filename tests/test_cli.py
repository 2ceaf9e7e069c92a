"""The command-line contract, run as real processes on the real files."""

from __future__ import annotations

import json
import re
import shutil

from conftest import KB_DIR, ROOT, cli_env, run_cli, write_entry


def test_ask_prints_the_card_as_text():
    done = run_cli("ask", "INT771 Export Error: Export not completed. The batches for this reporting period")
    assert done.returncode == 0
    out = done.stdout.decode()
    assert "INT771 Export Error" in out and "1. Sign in to Sage Intacct" in out


def test_ask_blocks_prints_block_kit_json():
    done = run_cli("ask", "--blocks", "NS0012")
    assert done.returncode == 0
    payload = json.loads(done.stdout)
    blocks = payload["blocks"] if isinstance(payload, dict) else payload
    assert blocks[0]["type"] == "header" and "NS0012" in blocks[0]["text"]["text"]
    assert all(b["type"] in {"header", "section", "context", "actions", "divider"} for b in blocks)


def test_ask_without_a_match_is_helpful_and_exits_zero():
    done = run_cli("ask", "what's for lunch?")
    assert done.returncode == 0
    assert "couldn't match" in done.stdout.decode()
    unknown = run_cli("ask", "NS9999")
    assert "NS9999" in unknown.stdout.decode() and "not a code" in unknown.stdout.decode()


def test_ask_reads_stdin_and_survives_empty_and_binary_input():
    assert "INT771" in run_cli("ask", stdin="INT771\n").stdout.decode()
    for junk in (b"", b"   \n", bytes(range(256)) * 100, b"\xff\xfe\x00bad utf8 \xc3\x28"):
        done = run_cli("ask", stdin=junk)
        assert done.returncode == 0, done.stderr
        assert b"Traceback" not in done.stderr


def test_match_jsonl_writes_one_line_per_input_in_order():
    lines = [{"text": "INT771"}, {"text": "thanks!"}, {"text": "Currency does not exist in NetSuite."},
             {"text": "Account not found. The category or export account may be deleted or inactive in the"},
             {"text": "NS9999"}]
    stdin = "\n".join(json.dumps(x) for x in lines) + "\nnot json\n"
    done = run_cli("match", "--jsonl", stdin=stdin)
    assert done.returncode == 0
    rows = [json.loads(x) for x in done.stdout.decode().splitlines()]
    assert len(rows) == len(lines) + 1
    assert rows[0]["answers"] == ["INT771"]
    assert rows[1] == {"answers": [], "suggestions": [], "scores": {}}
    assert rows[2]["answers"] == ["NS0012"]
    assert rows[3]["answers"] == [] and "ONL912" in rows[3]["suggestions"]
    assert rows[4]["answers"] == []
    assert rows[5]["answers"] == [] and "error" in rows[5]


def test_kb_check_passes_on_the_bundled_knowledge_base():
    done = run_cli("kb", "check")
    assert done.returncode == 0, done.stdout.decode()[-3000:]
    assert done.stdout.decode().strip().splitlines()[-1].startswith("OK:")


def test_kb_check_fails_with_file_and_line_and_collisions(tmp_path, good_entry):
    shutil.copy(KB_DIR / "chatter.txt", tmp_path / "chatter.txt")
    write_entry(tmp_path, "si/INT990.yaml", good_entry())
    bad = write_entry(tmp_path, "si/INT991.yaml", good_entry("INT991").replace("summary:", "summary: [oops"))
    # an entry whose example is really another entry's message: a collision
    write_entry(tmp_path, "si/INT992.yaml", good_entry("INT992", "The gizmo overheated in Sage Intacct today.")
                .replace('  - "The gizmo overheated in Sage Intacct today."',
                         '  - "The flux capacitor is misaligned in Sage Intacct."'))
    done = run_cli("kb", "check", "--kb", str(tmp_path))
    out = done.stdout.decode()
    assert done.returncode == 1
    assert f"{bad}:6: malformed YAML" in out  # where the unclosed [ opens
    assert "INT992 -> INT990" in out
    assert out.strip().splitlines()[-1].startswith("FAILED")
    assert b"Traceback" not in done.stderr


def test_kb_check_fails_when_chatter_answers(tmp_path, good_entry):
    write_entry(tmp_path, "si/INT990.yaml", good_entry())
    chatter = ["just chatting about lunch plans"] * 149 + ["The flux capacitor is misaligned in Sage Intacct."]
    (tmp_path / "chatter.txt").write_text("\n".join(chatter), encoding="utf-8")
    done = run_cli("kb", "check", "--kb", str(tmp_path))
    assert done.returncode == 1
    assert "chatter.txt:150: chatter answered ['INT990']" in done.stdout.decode()


def test_commands_take_kb_and_survive_a_broken_entry(tmp_path, good_entry):
    write_entry(tmp_path, "si/INT990.yaml", good_entry())
    write_entry(tmp_path, "si/INT991.yaml", "id: [")
    done = run_cli("ask", "--kb", str(tmp_path), "INT990")
    assert done.returncode == 0
    assert "INT990 Export Error" in done.stdout.decode()
    assert re.search(r"INT991\.yaml:[12]: malformed YAML", done.stderr.decode())
    empty = run_cli("ask", "--kb", str(tmp_path / "none"), "INT990")
    assert empty.returncode == 2 and b"Traceback" not in empty.stderr


def test_ask_reads_the_kb_folder_from_dotenv(tmp_path, good_entry):
    """FIXIT_KB_DIR set in the .env of the folder `ask` runs in is the knowledge base it answers from (the
    pipeline once read the environment itself, and a .env setting was ignored)."""
    kb, work = tmp_path / "kb", tmp_path / "work"
    write_entry(kb, "si/INT990.yaml", good_entry())
    work.mkdir()
    (work / ".env").write_text(f"FIXIT_KB_DIR={kb}\n", encoding="utf-8")
    done = run_cli("ask", "INT990", cwd=work, env=cli_env())
    assert done.returncode == 0, done.stderr
    assert "INT990 Export Error" in done.stdout.decode()
    (work / ".env").unlink()
    bundled = run_cli("ask", "INT990", cwd=work, env=cli_env())
    assert "INT990 Export Error" not in bundled.stdout.decode()  # the bundled KB has no INT990


def test_kb_stats_reports_systems_kinds_gaps_and_closest_pairs():
    done = run_cli("kb", "stats")
    out = done.stdout.decode()
    assert done.returncode == 0
    for system in ("Sage Intacct", "NetSuite", "QuickBooks Online", "QuickBooks Desktop", "Xero", "Certinia"):
        assert system in out
    assert "closest pairs" in out and "entries with no FAQ" in out


def test_eval_scores_labelled_lines_with_a_breakdown(tmp_path):
    data = tmp_path / "set.jsonl"
    data.write_text("\n".join(json.dumps(x) for x in [
        {"text": "INT771", "expect": ["INT771"], "kind": "code_only"},
        {"text": "hello all", "expect": [], "kind": "chatter"},
        {"text": "NS0012", "expect": ["INT771"], "kind": "code_only"},
    ]) + "\n{broken\n", encoding="utf-8")
    done = run_cli("eval", str(data), "--min-pastes", "0.9")
    out = done.stdout.decode()
    assert "pastes answered exactly: 1/2 = 50.00%" in out
    assert "chatter left silent:     1/1 = 100.00%" in out
    assert "code_only" in out and ":4:" in out
    assert done.returncode == 1


def test_console_answers_piped_input_as_one_paste_and_ends_at_eof():
    done = run_cli("run", stdin="Hi,\n\nthe export failed with:\n\nExport not completed. The batches for this "
                               "reporting period are\nclosed in Sage Intacct.\n\nThanks\n")
    out = done.stdout.decode()
    assert done.returncode == 0
    assert out.count("*INT771 Export Error*") == 1 and "1. Sign in to Sage Intacct" in out


def test_console_at_a_terminal_takes_a_multi_line_paste_as_one(tmp_path):
    import os
    import pty
    import select
    import subprocess
    import sys
    import time

    master, slave = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "bot", "console"], cwd=ROOT, stdin=slave, stdout=slave,
                               stderr=slave, close_fds=True)
    os.close(slave)

    def read_until(marker: bytes, timeout: float = 30) -> bytes:
        seen, deadline = b"", time.monotonic() + timeout
        while marker not in seen and time.monotonic() < deadline:
            if select.select([master], [], [], 0.2)[0]:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
        return seen

    try:
        assert b"Paste an error" in read_until(b"Paste an error")
        os.write(master, b"Fwd: export failed\n\nCurrency does not exist in NetSuite.\n\nthanks\n")
        out = read_until(b"Paste an error")
        assert out.count(b"NS0012 Export Error") >= 1 and out.count(b"No match") == 0
        os.write(master, b"XERO68\n")
        assert b"XERO68" in read_until(b"Paste an error")
        os.write(master, b"\x04")  # Ctrl-D
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)


def test_make_run_with_piped_input():
    if not shutil.which("make"):
        import pytest
        pytest.skip("make not installed")
    import subprocess
    done = subprocess.run(["make", "-s", "run"], cwd=ROOT, input=b"INT771\n", capture_output=True, timeout=300,
                          env={**__import__("os").environ, "SLACK_BOT_TOKEN": "", "SLACK_APP_TOKEN": ""})
    assert done.returncode == 0, done.stderr
    assert b"INT771 Export Error" in done.stdout


def test_ask_a_question_prints_the_answer_that_fits():
    done = run_cli("ask", "can we export negative expenses to quickbooks online?")
    out = done.stdout.decode()
    assert done.returncode == 0
    assert "QuickBooks Online accepts negative expenses" in out and "ask for `QBO-FAQ`" in out
    short = run_cli("ask", "how do I change the export date so intacct stops rejecting reports for closed "
                           "batches?").stdout.decode()
    assert "ask for `INT771`" in short and "Why it happens" not in short
    paste = "our march reports won't go to intacct, the batches for the period are closed"
    brief, full = run_cli("ask", paste).stdout, run_cli("ask", "--full", paste).stdout
    assert b"Most likely fix" in brief and b"Why it happens" not in brief and b"Why it happens" in full
