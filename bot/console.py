"""The offline console: paste an error, read the answer as Slack would show it (text form).

At a terminal, a paste is sent when the input pauses, so a multi-line paste (blank lines included) is
one paste, and a typed line is sent when Enter is pressed. Piped input is read to the end and answered
as one paste (`echo "INT771" | make run`).
"""

from __future__ import annotations

import os
import select
import sys
from typing import TextIO

from bot.pipeline import Fixit
from bot.wording import counted

PROMPT = "Paste an error (Ctrl-D to quit):"
PAUSE_SECONDS = 0.15   # a pasted block arrives at once; a pause this long ends it


def run_console(fixit: Fixit, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    say = stdout.write
    if not stdin.isatty():
        text = stdin.buffer.read().decode("utf-8", errors="replace") if hasattr(stdin, "buffer") else stdin.read()
        if text.strip():
            _answer(fixit, text, say)
        stdout.flush()
        return 0
    say(f"Fixit offline console: {counted(len(fixit.kb), 'entry', 'entries')} from {fixit.kb.directory}\n{PROMPT}\n")
    stdout.flush()
    for paste in _pastes(stdin.fileno()):
        if paste.strip():
            _answer(fixit, paste, say)
            say(f"\n{PROMPT}\n")
            stdout.flush()
    return 0


def _pastes(fd: int):
    """Text read from a terminal, cut where the input pauses."""
    pending = b""
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:  # Ctrl-D / end of input
            if pending:
                yield pending.decode("utf-8", errors="replace")
            return
        pending += chunk
        if pending.endswith(b"\n") and not select.select([fd], [], [], PAUSE_SECONDS)[0]:
            yield pending.decode("utf-8", errors="replace")
            pending = b""


def _answer(fixit: Fixit, paste: str, say) -> None:
    reply = fixit.reply(paste)
    if reply.cards:
        say("\n\n".join(card.text for card in reply.cards) + "\n")
    elif reply.suggestions:
        say(reply.suggestions.text + "\n")
    else:
        say(fixit.no_match(reply.match).text + "\n")
    say("-" * 60 + "\n")
