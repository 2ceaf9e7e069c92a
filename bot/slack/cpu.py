"""How a server process's threads share its one interpreter: on one CPU, taking turns often.

A process runs Python on one core at a time (the GIL), and its threads (the event loop, the listeners, the
posting lanes, the store's claims) hand the GIL to each other many times per event:

- On different cores, each hand-over moves the interpreter's working data from one core's caches to the
  other's; kept on one core, the same events cost the server markedly less CPU (docs/benchmarks.md). So a
  server process keeps its threads on the CPU it is running on when it starts, unless another worker of the
  same server holds that one already (FIXIT_CPU_PINNING=off leaves them to the kernel).
- A thread back from the database or the network waits for the GIL until the thread matching a paste has
  held it for the switch interval. A claim comes back several times (each SQLite step releases the GIL) and
  waits each time; GIL_SWITCH_SECONDS, shorter than Python's default, shortens each wait.
"""

from __future__ import annotations

import ctypes
import logging
import os
import socket
import sys

log = logging.getLogger("fixit.slack")
GIL_SWITCH_SECONDS = 0.001
_held: list[socket.socket] = []   # this process's claim on its CPU, for as long as it runs


def share_the_interpreter(pinning: bool) -> int | None:
    """Set up this server process's threads before it starts any: the CPU they are pinned to (None: not)."""
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    return pin_to_one_cpu() if pinning else None


def pin_to_one_cpu() -> int | None:
    """Every thread of this process (and every thread it starts from now on) on one CPU; which one, or None
    where it cannot be done (not Linux) or is done already (one CPU allowed)."""
    try:
        allowed = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None
    if len(allowed) < 2:
        return None
    here = current_cpu()
    order = ([here] if here in allowed else []) + [cpu for cpu in allowed if cpu != here]
    cpu = next((cpu for cpu in order if claimed(cpu)), order[0])  # more workers than CPUs: some share
    try:
        tasks = [int(task) for task in os.listdir("/proc/self/task")]
    except OSError:  # no /proc: this thread, and those it starts
        tasks = [0]
    for task in tasks:
        try:
            os.sched_setaffinity(task, {cpu})
        except OSError:  # a thread that has just ended
            pass
    log.info("running on CPU %d (FIXIT_CPU_PINNING=off lets the kernel move the threads)", cpu)
    return cpu


def current_cpu() -> int:
    try:
        return int(ctypes.CDLL(None).sched_getcpu())
    except (OSError, AttributeError):
        return -1


def claimed(cpu: int) -> bool:
    """Claim `cpu` among the worker processes of one server (the children of one parent): an abstract Unix
    socket name, which the kernel frees when the process ends, so no file is left behind."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        sock.bind(f"\0fixit-cpu-{os.getppid()}-{cpu}")
    except OSError:
        sock.close()
        return False
    _held.append(sock)
    return True
