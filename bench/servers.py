"""The servers the booking benchmark drives: an app under uvicorn with two workers, started
inside its tree (bench/in_tree.py) on a free loopback port, and always stopped."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.trees import Tree

HOST = "127.0.0.1"
STARTUP_SECONDS = 60.0
IMPORTED = "bench-imported: "
WORKER_IMPORTED = "bench-imported (worker "
WORKERS = 2


@dataclass(frozen=True)
class Server:
    base_url: str
    pid: int  # the uvicorn master: its process tree is what the CPU figures count
    imported: dict[str, str]  # the files it found the app in


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def uvicorn_server(
    tree: Tree, app_path: str, database_url: str, log_path: Path
) -> Iterator[Server]:
    """Serve `app_path` from `tree` with two uvicorn workers until the block ends."""
    port = _free_port()
    env = tree.env(DATABASE_URL=database_url, TELEHEALTH_ENV="development")
    command = tree.command("serve", app_path, str(port))
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=tree.root, env=env, stdout=log, stderr=log)
        try:
            base_url = f"http://{HOST}:{port}"
            _wait_until_ready(process, base_url, log_path)
            checked = WORKERS if app_path.startswith("bench.tree_app:") else 0
            yield Server(base_url, process.pid, _imported(log_path, checked))
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _imported(log_path: Path, workers: int) -> dict[str, str]:
    """What the master said it imported, once `workers` workers (0 for an app that does not
    report per worker) have said the same: bench/tree_app.py stops a worker that did not."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        lines = log_path.read_text().splitlines()
        master = [json.loads(x[len(IMPORTED) :]) for x in lines if x.startswith(IMPORTED)]
        reported = [x for x in lines if x.startswith(WORKER_IMPORTED)]
        if master and len(reported) >= workers:
            return {**master[0], "workers checked": str(len(reported))}
        if time.monotonic() > deadline:
            raise RuntimeError(f"{log_path}: the server did not say where it imported the app from")
        time.sleep(0.2)


def _wait_until_ready(process: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"uvicorn exited early:\n{log_path.read_text()[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(base_url + "/health", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"uvicorn did not answer within {STARTUP_SECONDS:.0f} s")
