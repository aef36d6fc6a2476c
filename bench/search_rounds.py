"""Slot search in rounds across trees: one worker process per tree (bench/search_worker.py),
asked in turn for a round each (the first tree first in even rounds, last in odd ones), so
drift in the machine's background load falls on every tree alike. A worker waits idle while
another measures."""

from __future__ import annotations

import contextlib
import json
import statistics
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from bench.slot_search import SearchWindow, SlotSearchResult
from bench.timing import Timings
from bench.trees import Tree

IMPORTED = "bench-imported: "


@dataclass
class Worker:
    tree: Tree
    process: subprocess.Popen[str]
    log: Path
    imported: dict[str, str]
    slots: int = 0
    rows: int = 0

    def read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(timeout=10)
            raise RuntimeError(
                f"{self.tree.name} search worker died:\n{self.log.read_text()[-3000:]}"
            )
        return dict(json.loads(line))

    def ask(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self.read()


@contextlib.contextmanager
def workers(
    trees: list[Tree], database_url: str, window: SearchWindow, token: str, log_dir: Path
) -> Iterator[list[Worker]]:
    started: list[Worker] = []
    args = [database_url, token, str(window.service_id), str(window.start), str(window.end)]
    try:
        for tree in trees:
            log = log_dir / f"search-{tree.name}.log"
            with log.open("w") as stderr:
                process = subprocess.Popen(
                    tree.command("search", *args), cwd=tree.root, env=tree.env(), text=True,
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                )  # fmt: skip
            worker = Worker(tree, process, log, _imported(process, log))
            ready = worker.read()
            worker.slots, worker.rows = ready["slots"], ready["rows"]
            started.append(worker)
        yield started
    finally:
        for worker in started:
            _stop(worker.process)


def _imported(process: subprocess.Popen[str], log: Path) -> dict[str, str]:
    stdout: IO[str] | None = process.stdout
    assert stdout is not None
    line = stdout.readline()
    if not line.startswith(IMPORTED):
        process.wait(timeout=10)
        raise RuntimeError(f"search worker did not start:\n{line}{log.read_text()[-3000:]}")
    return dict(json.loads(line[len(IMPORTED) :]))


def _stop(process: subprocess.Popen[str]) -> None:
    if process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def run(
    trees: list[Tree],
    database_url: str,
    window: SearchWindow,
    token: str,
    *,
    rounds: int,
    iterations: int,
    warmup: int,
    max_seconds: float,
    log_dir: Path,
) -> tuple[dict[str, SlotSearchResult], dict[str, dict[str, str]]]:
    """Each tree's slot search over `rounds` rounds of up to `iterations` runs (or
    `max_seconds`, over all rounds), after `warmup` untimed runs in its first round and one
    in each later round. Returns the results and the files each worker imported the app from."""
    timings = {
        t.name: {k: Timings() for k in ("orm", "http", "bare", "load", "expand")} for t in trees
    }
    round_p50s: dict[str, list[tuple[float, float, float]]] = {t.name: [] for t in trees}
    with workers(trees, database_url, window, token, log_dir) as started:
        for r in range(rounds):
            for worker in started if r % 2 == 0 else started[::-1]:
                command = {
                    "iterations": iterations,
                    "warmup": warmup if r == 0 else 1,
                    "max_seconds": max_seconds / rounds,
                }
                samples = worker.ask(command)
                mine = timings[worker.tree.name]
                for name, values in samples.items():
                    mine[name].samples += values
                p50s = (statistics.median(samples[k]) * 1000 for k in ("orm", "http", "bare"))
                round_p50s[worker.tree.name].append((next(p50s), next(p50s), next(p50s)))
        results = {
            w.tree.name: SlotSearchResult(
                window, w.slots, w.rows, **timings[w.tree.name], round_p50s=round_p50s[w.tree.name]
            )
            for w in started
        }
        return results, {w.tree.name: w.imported for w in started}
