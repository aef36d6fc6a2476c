"""How an appointment is put into words for people: its kind ("Video call from home"), the
service named without doubling ("Diabetes review", not "Diabetes review video appointment"),
and what a change changed ("Was: ... Now: ..."). Messages, invites and calendar feeds all say
it this way; nothing people read shows a raw value such as `video_home`.

Pure: plain values in, text out (times through `telehealth.kernel.timefmt`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from telehealth.kernel import timefmt

__all__ = ["Visit", "change_lines", "how", "lower_first", "service_phrase"]

TELEPHONE = "telephone"  # Appointment.medium when the clinician phoned instead

# Words that already make a service's name a kind of appointment: "Diabetes review" is said
# as it is, "Cardiology" becomes "Cardiology appointment".
_APPOINTMENT_WORDS = frozenset(
    {
        "appointment",
        "appointments",
        "assessment",
        "check",
        "check-up",
        "consultation",
        "follow-up",
        "review",
        "session",
        "visit",
    }
)


def how(mode: str, *, place: str | None = None, medium: str | None = None) -> str:
    """The appointment's kind as people say it: "Video call from home", "Video call at
    Morecambe hub", "Telephone", "In person at Royal Lancaster Infirmary". `place` is the
    site's name (a hub for video at a hub, the clinic for in person)."""
    if medium == TELEPHONE:
        return "Telephone"
    if mode == "video_home":
        return "Video call from home"
    if mode == "video_site":
        return f"Video call at {place}" if place else "Video call at a community hub"
    if mode == "in_person":
        return f"In person at {place}" if place else "In person"
    raise ValueError(f"unknown appointment mode {mode!r}")


def lower_first(text: str) -> str:
    """For a label inside a sentence: "video call from home". Only the first letter, so a
    place's name keeps its capitals."""
    return text[:1].lower() + text[1:]


def service_phrase(name: str) -> str:
    """The service as the subject of a sentence ("Your ... is booked"): its own name when that
    already says it is an appointment, else the name and "appointment"."""
    words = {w.lower().strip(".,:;()") for w in re.split(r"\s+", name.strip())}
    return name if words & _APPOINTMENT_WORDS else f"{name} appointment"


@dataclass(frozen=True, slots=True)
class Visit:
    """One version of an appointment, as far as a patient needs to know it."""

    start: datetime
    how: str
    clinician: str


def change_lines(was: Visit, now: Visit) -> tuple[str, str] | None:
    """("Was: ...", "Now: ...") naming only what changed (time, kind and place, clinician);
    None when nothing a patient would notice changed."""
    parts: list[tuple[str, str]] = []
    if was.start != now.start:
        parts.append((timefmt.moment(was.start), timefmt.moment(now.start)))
    if was.how != now.how:
        parts.append((lower_first(was.how), lower_first(now.how)))
    if was.clinician != now.clinician:
        parts.append((f"with {was.clinician}", f"with {now.clinician}"))
    if not parts:
        return None

    was_text, now_text = (", ".join(p[side] for p in parts) for side in (0, 1))
    return f"Was: {was_text}.", f"Now: {now_text}."
