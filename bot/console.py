"""The offline console: paste an error, read the answer as Slack would show it (text form).

A paste may span several lines; an empty line (or the end of input) sends it. Works with piped input.
"""

from __future__ import annotations

import sys
from typing import TextIO

from bot.pipeline import Fixit

PROMPT = "Paste an error (blank line to send, Ctrl-D to quit):"


def run_console(fixit: Fixit, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    interactive = stdin.isatty()
    say = stdout.write
    if interactive:
        say(f"Fixit offline console: {len(fixit.kb)} entries from {fixit.kb.directory}\n{PROMPT}\n")
    buffer: list[str] = []
    for raw in stdin:
        line = raw.rstrip("\n")
        if line.strip():
            buffer.append(line)
            continue
        if buffer:
            _answer(fixit, "\n".join(buffer), say)
            buffer = []
            if interactive:
                say(f"\n{PROMPT}\n")
    if buffer:
        _answer(fixit, "\n".join(buffer), say)
    stdout.flush()
    return 0


def _answer(fixit: Fixit, paste: str, say) -> None:
    reply = fixit.reply(paste)
    if reply.cards:
        say("\n\n".join(card.text for card in reply.cards) + "\n")
    elif reply.suggestions:
        say(reply.suggestions.text + "\n")
    else:
        say(fixit.no_match(reply.match).text + "\n")
    say("-" * 60 + "\n")
