"""Run a bench role inside one source tree: `python bench/in_tree.py TREE ROLE ARGS...`.

TREE goes first on the import path and this checkout's other paths are taken off it, so
`app`, `telehealth`, `scheduling` and `notifications` are TREE's; the `bench` package is
always this file's own (TREE may hold an older bench). Roles:

- `search DATABASE_URL TOKEN SERVICE_ID START END`: the slot-search worker (bench/search_worker.py);
- `serve APP PORT`: APP (`app:app`, `bench.bare_app:app`) under uvicorn with two workers.

Each role first prints one `bench-imported: {...}` line naming the files it imported the
app from. The top level also runs in uvicorn's spawned workers, which re-run this file.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

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


def report_imports() -> None:
    """Print where this process found the app, and stop if any of it is not TREE's."""
    import app
    import scheduling.slots
    from bench import appcode, trees

    modules = {
        "app": app.__file__,
        "scheduling.slots": scheduling.slots.__file__,
        appcode.kernel("db").__name__: appcode.kernel("db").__file__,
    }
    found = {name: str(Path(file or "?").resolve()) for name, file in modules.items()}
    print("bench-imported: " + json.dumps(found), flush=True)
    trees.check_imported(TREE, found)


def serve(app_path: str, port: int) -> None:
    import uvicorn

    report_imports()
    uvicorn.run(
        app_path, host="127.0.0.1", port=port, workers=2, access_log=False, log_level="warning"
    )


def main() -> None:
    role, args = sys.argv[2], sys.argv[3:]
    if role == "serve":
        serve(args[0], int(args[1]))
    elif role == "search":
        import asyncio

        from bench import search_worker

        report_imports()
        asyncio.run(search_worker.main(*args))
    else:
        raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    main()
