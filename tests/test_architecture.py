"""The dependency contracts in pyproject.toml's [tool.importlinter] (docs/ARCHITECTURE.md) hold,
and `lint-imports` (run by `make lint`) fails, naming the contract, on a forbidden import.

The injections run on a copy of the three packages in tmp_path, so the tree itself is never
touched; PYTHONPATH puts the copy ahead of the editable install.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("telehealth", "scheduling", "notifications")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> tuple[int, dict[str, str], str]:
    """The exit status, each contract's name with KEPT or BROKEN, and the whole report."""
    done = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    verdicts = dict(re.findall(r"^(.+) (KEPT|BROKEN)$", done.stdout, re.MULTILINE))
    assert verdicts, done.stdout + done.stderr
    return done.returncode, verdicts, done.stdout


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def inject(tree: Path, module: str, line: str) -> None:
    path = tree / module
    path.write_text(path.read_text() + f"\n{line}\n")


KERNEL = "The kernel imports no domain, feature or composition root"
DOMAINS = "Domains import only the kernel: no feature, no composition root"
INDEPENDENT = "Scheduling and notifications never import each other"
LAYERS = "Layers: roots > demo > features > domains > kernel"
ACYCLIC = "No import cycles between sibling packages or modules"


def test_the_tree_keeps_every_contract() -> None:
    status, verdicts, report = lint_imports(ROOT)
    assert verdicts == dict.fromkeys([KERNEL, DOMAINS, INDEPENDENT, LAYERS, ACYCLIC], "KEPT"), (
        report
    )
    assert status == 0


@pytest.mark.parametrize(
    ("module", "line", "broken", "named"),
    [
        (
            "telehealth/kernel/config.py",
            "import telehealth.video.join",
            {KERNEL, LAYERS},
            "telehealth.kernel.config -> telehealth.video.join",
        ),
        (
            "telehealth/kernel/audit.py",
            "import telehealth.cli",
            {KERNEL, LAYERS},
            "telehealth.kernel.audit -> telehealth.cli",
        ),
        (
            "scheduling/clinic.py",
            "import notifications.outbox",
            {INDEPENDENT},
            "scheduling.clinic -> notifications.outbox",
        ),
        (
            "notifications/outbox.py",
            "from scheduling import models",
            {INDEPENDENT},
            "notifications.outbox -> scheduling.models",
        ),
        (
            "scheduling/clinic.py",
            "import telehealth.messaging",
            {DOMAINS, LAYERS},
            "scheduling.clinic -> telehealth.messaging",
        ),
        (
            "telehealth/video/join.py",
            "import telehealth.demo",
            {LAYERS},
            "telehealth.video.join -> telehealth.demo",
        ),
        # Every endpoint module imports scheduling.models: the reverse closes a circle.
        (
            "scheduling/models.py",
            "import scheduling.endpoints",
            {ACYCLIC},
            "No cycles are allowed in scheduling.",
        ),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    tree: Path, module: str, line: str, broken: set[str], named: str
) -> None:
    _, _, untouched = lint_imports(tree)
    inject(tree, module, line)
    status, verdicts, report = lint_imports(tree)

    assert status != 0
    assert {name for name in broken if verdicts[name] == "BROKEN"} == broken, report
    assert named not in untouched
    assert named in report
