"""CPU time used by processes on this machine, read from /proc (Linux only): the uvicorn
workers serving a benchmark and the PostgreSQL backends answering them."""

from __future__ import annotations

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _seconds(pid: int) -> float:
    """User plus system CPU seconds of one process (0.0 if it has gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


def _children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(child) for child in found]


def tree_seconds(pid: int) -> float:
    """CPU seconds of a process and its living descendants."""
    return _seconds(pid) + sum(tree_seconds(child) for child in _children(pid))


def postgres_seconds() -> float:
    """CPU seconds of every living PostgreSQL server process on this machine."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if name.startswith("postgres"):
            total += _seconds(int(entry.name))
    return total
