"""A served process's threads share one CPU (bot/slack/cpu.py): every thread, those started after it began
serving included; each worker of one server its own CPU; FIXIT_CPU_PINNING=off leaves them to the kernel."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from slack_harness import ROOT, SlackSender, free_port, message, serve_process

from bot.settings import Settings

several_cpus = pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
                                  reason="pinning needs a Linux machine with two CPUs or more")


def cpu_list(text: str) -> set[int]:
    """'0-2,5' → {0, 1, 2, 5} (the kernel's Cpus_allowed_list)."""
    cpus = set()
    for part in text.split(","):
        first, _, last = part.partition("-")
        cpus.update(range(int(first), int(last or first) + 1))
    return cpus


def threads_cpus(pid: int) -> list[set[int]]:
    """The CPUs each thread of a process may run on."""
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        for line in Path(f"/proc/{pid}/task/{task}/status").read_text().splitlines():
            if line.startswith("Cpus_allowed_list:"):
                found.append(cpu_list(line.split(":", 1)[1].strip()))
    return found


def answered_one_paste(port: int, fake) -> None:
    sender = SlackSender(f"http://127.0.0.1:{port}/slack/events")
    assert sender.event_once_listening(message("INT771", ts="1700000001.000001")) == 200
    fake.wait_for("chat.postMessage", timeout=20)


@several_cpus
def test_every_thread_of_a_served_process_is_on_one_cpu_and_it_still_answers(tmp_path, fake):
    port = free_port()
    server, lines = serve_process(fake, tmp_path, "--http", "--host", "127.0.0.1", "--port", str(port))
    try:
        answered_one_paste(port, fake)  # the listener and posting threads exist from here on
        cpus = threads_cpus(server.pid)
        assert len(cpus) > 3
        assert all(len(c) == 1 for c in cpus) and len({frozenset(c) for c in cpus}) == 1
        (cpu,) = cpus[0]
        assert any(f"running on CPU {cpu}" in line for line in lines)
    finally:
        server.terminate()
        server.wait(timeout=20)


@several_cpus
def test_with_pinning_off_the_threads_may_run_on_every_cpu(tmp_path, fake):
    port = free_port()
    server, lines = serve_process(fake, tmp_path, "--http", "--host", "127.0.0.1", "--port", str(port),
                                  FIXIT_CPU_PINNING="off")
    try:
        answered_one_paste(port, fake)
        assert all(c == os.sched_getaffinity(0) for c in threads_cpus(server.pid))
        assert not any("running on CPU" in line for line in lines)
    finally:
        server.terminate()
        server.wait(timeout=20)


@several_cpus
def test_threads_started_later_inherit_the_cpu_and_the_switch_interval_is_set():
    script = ("import os, sys, threading\n"
              "from bot.slack.cpu import GIL_SWITCH_SECONDS, share_the_interpreter\n"
              "cpu = share_the_interpreter(True)\n"
              "seen = []\n"
              "t = threading.Thread(target=lambda: seen.append(os.sched_getaffinity(0))); t.start(); t.join()\n"
              "print(cpu, sorted(seen[0]), sys.getswitchinterval() == GIL_SWITCH_SECONDS)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    cpu, later, switch = done.stdout.replace("[", "").replace("]", "").split()
    assert later == cpu and switch == "True"


def test_a_pinning_setting_that_is_neither_on_nor_off_is_named():
    settings = Settings.load(env={"FIXIT_CPU_PINNING": "yes"}, env_file=None, strict=False)
    assert any(p.startswith("FIXIT_CPU_PINNING: 'yes': write on") for p in settings.problems)
    assert Settings.load(env={"FIXIT_CPU_PINNING": "OFF"}, env_file=None).cpu_pinning is False
    assert Settings.load(env={}, env_file=None).cpu_pinning is True
