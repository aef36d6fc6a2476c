"""The tree's `app:app`, as each uvicorn worker serves it (bench/in_tree.py serve): the
worker imports it here and says where from, so the booking benchmark knows that a
baseline's server runs the baseline's code, worker by worker, not only in the master."""

from __future__ import annotations

import os

from app import app
from bench.trees import report_imports

report_imports(f" (worker {os.getpid()})")

__all__ = ["app"]
