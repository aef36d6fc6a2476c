from __future__ import annotations

from pathlib import Path

from jinja2 import ChainableUndefined, ChoiceLoader, Environment, FileSystemLoader, PackageLoader
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from telehealth.kernel import timefmt
from telehealth.kernel.migrations import PROJECT_ROOT

TEMPLATES = PROJECT_ROOT / "templates"
NHSUK_DIST = PROJECT_ROOT / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"

# The project's templates first, then nhsuk-frontend-jinja's component macros
# (`{% from "nhsuk/components/button/macro.jinja" import button %}`), whose version matches the
# nhsuk-frontend npm package whose CSS and JS the pages load. The macros read optional
# parameters as chains (`params.hint.text`), which need ChainableUndefined.
templates = Jinja2Templates(
    env=Environment(
        loader=ChoiceLoader(
            [FileSystemLoader(str(TEMPLATES)), PackageLoader("nhsuk_frontend_jinja")]
        ),
        undefined=ChainableUndefined,
        autoescape=True,
        # Templates are read once per process: checking every file's modification time on
        # each render cost about a millisecond of a page's eight (bench/page_search.py).
        # A template edit takes effect when the server restarts.
        auto_reload=False,
    )
)

# Every date and time a page shows goes through these (NHS style, Europe/London): 9:30am,
# midday, "Tuesday 3 March 2026"; `when` is both, "Tuesday 3 March 2026 at 9:30am".
templates.env.filters["local_time"] = timefmt.clock
templates.env.filters["local_date"] = timefmt.day
templates.env.filters["when"] = timefmt.moment


def _sentence(value: str) -> str:
    """An error's message ("the form has expired") as a sentence on a page."""
    value = value.strip()
    if not value:
        return value
    return value[0].upper() + value[1:] + ("" if value[-1] in ".!?" else ".")


templates.env.filters["sentence"] = _sentence


def error_list(errors: dict[str, str]) -> list[dict[str, str]]:
    """`errors` (each field's id to its message, in the form's order) as the NHS.UK error
    summary macro's `errorList`: each message links to its field."""
    return [{"text": message, "href": f"#{field}"} for field, message in errors.items()]


templates.env.globals["error_list"] = error_list
templates.env.globals["nhsuk_assets"] = NHSUK_DIST.exists()


FAVICON = NHSUK_DIST / "assets" / "images" / "favicon.ico"


async def _favicon(request: Request) -> Response:
    return FileResponse(FAVICON, media_type="image/x-icon")


def asset_mount() -> list[BaseRoute]:
    """NHS.UK frontend's styles and images, and its icon where browsers look for one (pages
    also name it), when `npm ci` has installed them."""
    if not NHSUK_DIST.exists():
        return []
    return [
        Mount("/assets/nhsuk", StaticFiles(directory=Path(NHSUK_DIST)), name="nhsuk"),
        Route("/favicon.ico", _favicon),
    ]
