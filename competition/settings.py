"""A competition's rules (COMP/competition.toml) and the names of the files in its folder.

The folder layout is a contract shared by the server, the web pages and the platform export:

    COMP/competition.toml        all rules (this module)
    COMP/solution.csv            the answers, in the kit's solution format
    COMP/split.csv               Usage Public/Private per image or pixel (submission.grading.make_split)
    COMP/sample_submission.csv   header and ids students copy; values are the White images'
    COMP/test_boxes.csv          each test image's painted box, found once at init by the kit's finder
    COMP/student_data.zip        Training/Real, Training/White, Testing/White (never Testing/Real)
    COMP/competition.db          the SQLite database (the default; --db chooses another)
    COMP/submissions/            uploaded files named by their SHA-256
    COMP/secrets/                mode 0700: the admin token and participants' token files (0600)
"""
from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path

from submission.errors import ConfigError, UserError
from submission.grading import COURSE_BASELINE, COURSE_STRONG
from submission.image_files import atomic_write_bytes
from submission.toml_values import toml_value

SETTINGS_FILE = "competition.toml"


@dataclass(frozen=True)
class CompetitionPaths:
    """Where each part of a competition folder lives."""

    root: Path

    @property
    def settings(self) -> Path:
        return self.root / SETTINGS_FILE

    @property
    def solution(self) -> Path:
        return self.root / "solution.csv"

    @property
    def split(self) -> Path:
        return self.root / "split.csv"

    @property
    def sample(self) -> Path:
        return self.root / "sample_submission.csv"

    @property
    def test_boxes(self) -> Path:
        return self.root / "test_boxes.csv"

    def require_test_boxes(self) -> Path:
        """test_boxes.csv, or one line telling the organizer of a folder made by an older kit what to run."""
        if not self.test_boxes.is_file():
            raise UserError(f"{self.test_boxes}: not found; this competition folder was made before `inpaint competition "
                            f"init` stored the test boxes: run `inpaint competition boxes --dir {self.root} --data DATA` "
                            "with the data folder it was made from")
        return self.test_boxes

    @property
    def student_zip(self) -> Path:
        return self.root / "student_data.zip"

    @property
    def database(self) -> Path:
        return self.root / "competition.db"

    @property
    def submissions(self) -> Path:
        return self.root / "submissions"

    @property
    def incoming(self) -> Path:
        """Uploads being received; whatever is here when the server starts is an interrupted upload."""
        return self.submissions / ".incoming"

    @property
    def secrets(self) -> Path:
        return self.root / "secrets"

    @property
    def admin_token(self) -> Path:
        return self.secrets / "admin_token.txt"

    def default_db_url(self) -> str:
        return f"sqlite:///{self.database.resolve()}"


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


REJECTED_PER_ACCEPTED = 5  # default cap on rejected uploads a day, as a multiple of daily_limit


@dataclass(frozen=True)
class Settings:
    """Every rule of one competition. Datetimes are timezone-aware; None deadline = never closes."""

    title: str = "Mouth generation"
    deadline: datetime | None = None
    daily_limit: int = 20  # accepted uploads per participant per UTC day
    # Rejected uploads do not use the daily limit but are stored (the student sees what was sent),
    # so they have their own, larger cap per UTC day to bound the disk; None = REJECTED_PER_ACCEPTED x daily_limit.
    rejected_daily_limit: int | None = None
    final_picks: int = 2  # submissions a participant may select for the private leaderboard
    public_fraction: float = 0.3
    split_by: str = "image"  # "image" or "pixel", as submission.grading.make_split
    seed: int = 0
    baseline: float = COURSE_BASELINE  # grade 3 at this RMSE (submission.grading)
    strong: float = COURSE_STRONG  # grade 8 at this RMSE
    max_upload_mb: float = 50.0
    image_size: tuple[int, int] = (128, 128)  # (M, N) of the test images: the CSV has M*N rows
    n_images: int = 10  # test images: the CSV has this many value columns
    created: datetime = field(default_factory=_now)

    def __post_init__(self):
        if self.rejected_daily_limit is None and isinstance(self.daily_limit, int):
            # frozen: set once here, so competition.toml written by init states the cap in use
            object.__setattr__(self, "rejected_daily_limit", REJECTED_PER_ACCEPTED * self.daily_limit)
        check_settings(self)

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    def is_closed(self, now: datetime) -> bool:
        """True once the deadline has passed: uploads stop and the private leaderboard appears."""
        return self.deadline is not None and now >= self.deadline


def check_settings(s: Settings) -> None:
    """ConfigError naming the first rule that makes no sense."""
    if not s.title.strip():
        raise ConfigError("the title must not be empty")
    for name in ("deadline", "created"):
        value = getattr(s, name)
        if value is not None and (not isinstance(value, datetime) or value.utcoffset() is None):
            raise ConfigError(f"{name} must be a date and time with a UTC offset, such as 2026-12-20T23:59:00+08:00")
    if s.daily_limit < 1 or s.final_picks < 1 or s.rejected_daily_limit < 1:
        raise ConfigError("daily_limit, rejected_daily_limit and final_picks must be at least 1")
    if not 0.0 < s.public_fraction < 1.0:
        raise ConfigError("public_fraction must be between 0 and 1")
    if s.split_by not in ("image", "pixel"):
        raise ConfigError("split_by must be 'image' or 'pixel'")
    if not s.baseline > s.strong:
        raise ConfigError(f"baseline ({s.baseline}) must be worse (higher) than strong ({s.strong})")
    if not s.max_upload_mb > 0:
        raise ConfigError("max_upload_mb must be positive")
    if len(s.image_size) != 2 or min(s.image_size) < 1 or s.n_images < 1:
        raise ConfigError("image_size needs two positive numbers and n_images must be at least 1")


def parse_deadline(text: str | None) -> datetime | None:
    """'2026-12-20T23:59:00+08:00' -> aware datetime. A time without an offset is refused: whose 23:59?"""
    if text is None or text == "":
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"deadline {text!r}: not an ISO date and time such as 2026-12-20T23:59:00+08:00") from None
    if value.utcoffset() is None:
        raise ConfigError(f"deadline {text!r} has no UTC offset; add one, such as +08:00 or Z")
    return value


def iso(value: datetime | None) -> str | None:
    """An aware datetime as ISO 8601 text (what the API and the pages show), None stays None."""
    return None if value is None else value.isoformat()


def _toml_value(value) -> str:
    if isinstance(value, datetime):
        return value.isoformat()  # a TOML offset date-time: tomllib reads it back as an aware datetime
    return toml_value(value)


def settings_to_toml(s: Settings) -> str:
    lines = ["# Competition rules, written by `inpaint competition init`. The server reads them at start.\n"]
    for f in fields(s):
        value = getattr(s, f.name)
        if value is not None:  # TOML has no null: a missing deadline means none
            lines.append(f"{f.name} = {_toml_value(value)}\n")
    return "".join(lines)


def write_settings(comp_dir, settings: Settings) -> Path:
    """Write COMP/competition.toml atomically; returns its path."""
    path = CompetitionPaths(Path(comp_dir)).settings
    atomic_write_bytes(path, settings_to_toml(settings).encode("utf-8"))
    return path


def load_settings(comp_dir) -> Settings:
    """Read COMP/competition.toml, or a ConfigError saying what is wrong with it."""
    path = CompetitionPaths(Path(comp_dir)).settings
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found; is {comp_dir} a competition folder? "
                          "Create one with `inpaint competition init`") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown keys {', '.join(unknown)}")
    if "image_size" in values:
        values["image_size"] = tuple(values["image_size"])
    try:
        return Settings(**values)
    except TypeError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def replace(settings: Settings, **changes) -> Settings:
    """A copy with some rules changed (checked again)."""
    return dataclasses.replace(settings, **changes)
