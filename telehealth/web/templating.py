from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from telehealth.migrations import PROJECT_ROOT

TEMPLATES = PROJECT_ROOT / "templates"
NHSUK_DIST = PROJECT_ROOT / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"

LONDON = ZoneInfo("Europe/London")

templates = Jinja2Templates(directory=str(TEMPLATES))


def _local_time(value: datetime) -> str:
    return value.astimezone(LONDON).strftime("%H:%M")


def _local_date(value: datetime) -> str:
    return value.astimezone(LONDON).strftime("%A %-d %B %Y")


def _sentence(value: str) -> str:
    """An error's message ("the form has expired") as a sentence on a page."""
    value = value.strip()
    if not value:
        return value
    return value[0].upper() + value[1:] + ("" if value[-1] in ".!?" else ".")


templates.env.filters["local_time"] = _local_time
templates.env.filters["sentence"] = _sentence
templates.env.filters["local_date"] = _local_date
templates.env.globals["nhsuk_assets"] = NHSUK_DIST.exists()


def asset_mount() -> list[Mount]:
    if not NHSUK_DIST.exists():
        return []
    return [Mount("/assets/nhsuk", StaticFiles(directory=Path(NHSUK_DIST)), name="nhsuk")]
