"""The app's kernel modules as this process finds them, in either layout.

The bench measures two trees side by side (`run.py --baseline`): the current one, whose
kernel is `telehealth/kernel/`, and a baseline from before the layout move, whose kernel
modules sat directly in `telehealth/`. Code that runs inside a tree's process (the slot
search worker, the served apps) takes kernel modules from here, so that the one difference
is handled in one place. Domain modules (`scheduling.*`) kept their paths.
"""

from __future__ import annotations

import importlib
from types import ModuleType

LAYOUTS = ("telehealth.kernel", "telehealth")


def kernel(name: str) -> ModuleType:
    """`telehealth.kernel.<name>`, or `telehealth.<name>` in a tree from before the move."""
    for package in LAYOUTS:
        try:
            return importlib.import_module(f"{package}.{name}")
        except ModuleNotFoundError as missing:
            # Only the module itself being absent means "the other layout"; a missing
            # dependency inside it is a real error.
            if missing.name not in (package, f"{package}.{name}"):
                raise
    raise ModuleNotFoundError(f"no kernel module {name!r} under {' or '.join(LAYOUTS)}")
