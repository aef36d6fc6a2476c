"""The source trees a run measures: the current checkout and, with --baseline, another one.

Each tree's app code runs in its own processes (the slot-search worker, the uvicorn
servers), started by `bench/in_tree.py`, which puts that tree first on the import path while
the bench's own modules stay this checkout's. The venv's editable install points at one
checkout only, so the tree is set on the path explicitly and every process reports which
files it imported (`Tree.check`).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IN_TREE = Path(__file__).with_name("in_tree.py")
CURRENT = "current"
BASELINE = "baseline"


@dataclass(frozen=True)
class Tree:
    name: str  # "current" or "baseline"
    root: Path
    label: str  # what it is: a commit, or a directory

    def command(self, *args: str) -> list[str]:
        """A Python command that runs `args` (a bench script's arguments) inside this tree."""
        return [python(), str(IN_TREE), str(self.root), *args]

    def env(self, **extra: str) -> dict[str, str]:
        path = os.pathsep.join(p for p in (str(self.root), os.environ.get("PYTHONPATH")) if p)
        return {**os.environ, "PYTHONPATH": path, **extra}


def python() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def describe(root: Path) -> str:
    """The commit a checkout is at (and whether it has changes), for the report."""
    found = subprocess.run(
        ["git", "-C", str(root), "log", "-1", "--format=%h %s"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if found.returncode != 0:
        return str(root)
    dirty = subprocess.run(
        ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    subject = found.stdout.strip()
    return subject[:72] + (" (with uncommitted changes)" if dirty else "")


def current() -> Tree:
    return Tree(CURRENT, ROOT, describe(ROOT))


@contextlib.contextmanager
def baseline(ref: str | None, directory: str | None) -> Iterator[Tree | None]:
    """The baseline tree: an existing checkout (`directory`), or `ref` exported from this
    repository into a temporary directory with `git archive` (removed afterwards, and no
    worktree registered in the shared repository); None without either."""
    if directory is not None:
        root = Path(directory).resolve()
        if not (root / "app.py").exists():
            raise SystemExit(f"--baseline-dir {root}: no app.py there")
        yield Tree(BASELINE, root, describe(root))
        return
    if ref is None:
        yield None
        return
    commit = _git("rev-parse", "--verify", f"{ref}^{{commit}}").strip()
    label = _git("log", "-1", "--format=%h %s", commit).strip()[:72]
    with tempfile.TemporaryDirectory(prefix="telehealth-baseline-") as scratch:
        archive = subprocess.Popen(
            ["git", "-C", str(ROOT), "archive", "--format=tar", commit], stdout=subprocess.PIPE
        )
        subprocess.run(["tar", "-x", "-C", scratch], stdin=archive.stdout, check=True)
        if archive.wait() != 0:
            raise SystemExit(f"git archive {commit} failed")
        modules = ROOT / "node_modules"  # the NHS.UK assets the app mounts at start
        if modules.exists():
            (Path(scratch) / "node_modules").symlink_to(modules.resolve())
        yield Tree(BASELINE, Path(scratch), label)


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True
    ).stdout


def report_imports(who: str = "") -> None:
    """In a process bench/in_tree.py started: print where it found the app, and stop if any
    of it is not from its tree."""
    import app
    import scheduling.slots
    from bench import appcode

    db = appcode.kernel("db")
    modules: dict[str, str | None] = {"app": app.__file__}
    modules["scheduling.slots"] = scheduling.slots.__file__
    modules[db.__name__] = db.__file__
    found = {name: str(Path(file or "?").resolve()) for name, file in modules.items()}
    print(f"bench-imported{who}: " + json.dumps(found), flush=True)
    check_imported(Path(os.environ["BENCH_TREE"]), found)


def check_imported(tree_root: Path, modules: dict[str, str]) -> None:
    """Fail unless every app module a tree's process imported came from that tree."""
    strays = {name: f for name, f in modules.items() if not Path(f).is_relative_to(tree_root)}
    if strays:
        raise RuntimeError(f"a process for {tree_root} imported app code from elsewhere: {strays}")
