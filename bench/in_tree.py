"""Run a bench role inside one source tree: `python bench/in_tree.py TREE ROLE ARGS...`.

TREE goes first on the import path and this checkout's other paths are taken off it, so
`app`, `telehealth`, `scheduling` and `notifications` are TREE's; the `bench` package is
always this file's own (TREE may hold an older bench). Roles:

- `search DATABASE_URL TOKEN SERVICE_ID START END`: the slot-search worker (bench/search_worker.py);
- `serve APP PORT`: APP (`bench.tree_app:app`, the tree's `app:app` seen importing from the
  tree in each worker; `bench.bare_app:app`) under uvicorn with two workers.

Each role first prints one `bench-imported: {...}` line naming the files it imported the
app from. The top level also runs in uvicorn's spawned workers, which re-run this file.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

TREE_VARIABLE = "BENCH_TREE"

BENCH_DIR = Path(__file__).resolve().parent
TREE = Path(sys.argv[1]).resolve()
_OURS = {BENCH_DIR, BENCH_DIR.parent, TREE}
sys.path[:] = [str(TREE)] + [p for p in sys.path if Path(p or ".").resolve() not in _OURS]
# The venv's editable install adds a finder that maps `telehealth` and the rest to the
# checkout it was installed from, whatever the path says (it answered for
# `telehealth.kernel` inside the baseline's `telehealth`): take it out.
sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "")]

_spec = importlib.util.spec_from_file_location(
    "bench", BENCH_DIR / "__init__.py", submodule_search_locations=[str(BENCH_DIR)]
)
assert _spec is not None and _spec.loader is not None
_bench = importlib.util.module_from_spec(_spec)
sys.modules["bench"] = _bench
_spec.loader.exec_module(_bench)
os.environ[TREE_VARIABLE] = str(TREE)  # for bench.trees.report_imports, in spawned workers too


def serve(app_path: str, port: int) -> None:
    import uvicorn

    from bench.servers import WORKERS
    from bench.trees import report_imports

    report_imports()
    uvicorn.run(
        app_path, host="127.0.0.1", port=port, workers=WORKERS, access_log=False,
        log_level="warning",
    )  # fmt: skip


def main() -> None:
    role, args = sys.argv[2], sys.argv[3:]
    if role == "serve":
        serve(args[0], int(args[1]))
    elif role == "search":
        import asyncio

        from bench import search_worker
        from bench.trees import report_imports

        report_imports()
        asyncio.run(search_worker.main(*args))
    else:
        raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    main()
