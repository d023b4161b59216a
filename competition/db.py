"""The competition database: SQLAlchemy 2 models, engines, and the stored schema version.

SQLite (in COMP/, WAL mode) is the default; PostgreSQL (postgresql+psycopg://...) serves a big
class or several server processes. The schema version is stored in the database and checked at
start: a kit that finds another version stops with a message and never migrates by itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import (JSON, Boolean, Double, ForeignKey, Integer, LargeBinary, String, Text, create_engine, event, inspect,
                        select)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.types import DateTime, TypeDecorator

from submission.errors import ConfigError, UserError

SCHEMA_VERSION = 5
# What each version changed, quoted when an older database is refused (the kit never migrates by itself).
SCHEMA_CHANGES = {2: "submissions gained `diagnoses` (the likely export mistakes) and `disqualified` "
                     "(per submission); participants lost `disqualified`",
                  3: "a new table `sign_ins` (the web pages' sessions, kept on the server so that signing out ends "
                     "them); nothing else changed",
                  4: "participants gained `display_name`, `display_key`, `name_source` and `student_id` (the names "
                     "shown instead of the roster's; docs/hosting.md, 'Upgrading a running competition', has the SQL)"}
# --- schema 5, issue 33: what judging derives is stored, never recomputed by a request; uploads in flight ---
SCHEMA_CHANGES[5] = ("a new table `judgements` (per submission, written by the judge: findings and diagnoses as JSON, "
                     "flags, copy features, thumbnails; submissions lost `findings` and `diagnoses`), a new table "
                     "`copy_flags` (the organizer's copy flags, kept up to date at each change) and a new table "
                     "`upload_slots` (the uploads being received or judged, each holding its place in the daily "
                     "limit); docs/hosting.md, 'Upgrading a running competition', has the SQL")
# --- end of schema 5 ---
MAX_ID = 2**31 - 1  # the largest id an INTEGER column holds on PostgreSQL; a larger one is no row on any database
SQLITE_BUSY_MS = 60_000  # writers queue behind BEGIN IMMEDIATE; a burst of 20 uploads waits, never fails


class UTCDateTime(TypeDecorator):
    """Stored as naive UTC (SQLite keeps no offset), always handed back timezone-aware in UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError("naive datetime given to the database; use an aware UTC datetime")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    pass


class Meta(Base):
    """Key/value facts about the database itself: schema_version, admin_token_hash."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Participant(Base):
    """A person of the roster. `name`, `email` and `student_id` are for the organizer only; everyone
    else sees `display_name` (competition/participants.py public_name)."""

    __tablename__ = "participants"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    email: Mapped[str] = mapped_column(String(320), default="")
    student_id: Mapped[str] = mapped_column(String(64), default="")  # the roster's, for the gradebook export
    display_name: Mapped[str] = mapped_column(String(40))
    # competition/display_names.py name_key: the unique index makes "Blue Fox" and "blue-fox" one name, also in a race
    display_key: Mapped[str] = mapped_column(String(40), unique=True, index=True)
    name_source: Mapped[str] = mapped_column(String(16), default="generated")  # NAME_SOURCES in participants.py
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)  # sha256 hex; the token is never stored
    created: Mapped[datetime] = mapped_column(UTCDateTime)


class Submission(Base):
    __tablename__ = "submissions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    sha256: Mapped[str] = mapped_column(String(64))  # the file is COMP/submissions/<sha256>.csv
    filename: Mapped[str] = mapped_column(String(255), default="")  # as the student named it
    size_bytes: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))  # "accepted" or "rejected"
    public_rmse: Mapped[float | None] = mapped_column(Double, nullable=True)  # float64 on both databases
    private_rmse: Mapped[float | None] = mapped_column(Double, nullable=True)  # never sent to a participant before the deadline
    selected: Mapped[bool] = mapped_column(Boolean, default=False)  # chosen for the private leaderboard
    disqualified: Mapped[bool] = mapped_column(Boolean, default=False)  # by the organizer: off every leaderboard


class SignIn(Base):
    """A signed-in session of the web pages. The cookie holds a random id; only its SHA-256 is
    stored. It ends when deleted (sign-out), at `expires`, or when the token it was opened with
    is no longer the participant's (or the organizer's) token."""

    __tablename__ = "sign_ins"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"), nullable=True, index=True)
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
    token_hash: Mapped[str] = mapped_column(String(64))  # of the token used to sign in
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    expires: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Judgement(Base):
    """What judging derived from one upload, computed once in the judging process (competition/judge.py)
    and only read afterwards: no page or API route parses a stored file. A file refused before
    parsing has empty lists and no pictures; only an accepted one has flags and copy features."""

    __tablename__ = "judgements"
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    findings: Mapped[list] = mapped_column(JSON, default=list)  # [{"level": "error"|"warning", "message": ...}]
    diagnoses: Mapped[list] = mapped_column(JSON, default=list)  # submission/diagnose.py sentences
    flags: Mapped[list] = mapped_column(JSON, default=list)  # submission/flags.py reasons (accepted files)
    copy_features: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # .npy, float32 (copies.py)
    thumbnails: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # PNG (submission/thumbnails.py)


class CopyFlagRow(Base):
    """One copy flag among the counted submissions (submission/copies.py CopyFlag, participants by id).
    Rows involving a participant are replaced whenever that participant's counted submission changes
    (competition/copy_checks.py); the pages only read them."""

    __tablename__ = "copy_flags"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # "pair:A-B" or "mix:C-A-B" (participant ids)
    kind: Mapped[str] = mapped_column(String(8))  # "pair" or "mix"
    participant_ids: Mapped[list] = mapped_column(JSON)  # in CopyFlag.names order
    submission_ids: Mapped[list] = mapped_column(JSON)  # the counted submissions compared
    ratio: Mapped[float] = mapped_column(Double)
    details: Mapped[dict] = mapped_column(JSON)  # CopyFlag's distance, error, weight, blur, blurred (an id)


class UploadSlot(Base):
    """An upload being received or judged: it holds a place in its participant's daily limit until
    its submission row is written (the slot is deleted in the same transaction) or it is refused.
    A slot older than competition/service.py's UPLOAD_SLOT_TTL_S is one a killed server left behind."""

    __tablename__ = "upload_slots"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # uuid4 hex: the same SQL on both databases
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    started: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass
class Database:
    """`engine` for reads; `write_engine` for transactions that must not interleave (the daily count).

    On SQLite the write engine begins with BEGIN IMMEDIATE, which takes the write lock at the
    start, so two uploads cannot both count 4 and both insert the 5th. On PostgreSQL both are one
    engine and the service locks the participant's row (SELECT ... FOR UPDATE) instead.
    """

    url: str
    engine: Engine
    write_engine: Engine

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def session(self, write: bool = False) -> Session:
        return Session(self.write_engine if write else self.engine, expire_on_commit=False)

    def dispose(self) -> None:
        self.engine.dispose()
        if self.write_engine is not self.engine:
            self.write_engine.dispose()


def _sqlite_engine(url: str, begin: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # pysqlite's own BEGIN handling is off, so that ours (below) decides the lock mode.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
        cursor.execute("PRAGMA synchronous=FULL")  # a commit survives a power cut, not only a killed process
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql(begin)

    return engine


def connect(url: str) -> Database:
    """Engines for a database URL (no check, no schema); a bad URL is a ConfigError."""
    try:
        if url.startswith("sqlite"):
            return Database(url, _sqlite_engine(url, "BEGIN"), _sqlite_engine(url, "BEGIN IMMEDIATE"))
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    except Exception as exc:  # sqlalchemy.exc.ArgumentError, NoSuchModuleError: the URL's fault
        raise ConfigError(f"--db {url!r}: {exc}") from None
    return Database(url, engine, engine)


def stored_version(db: Database) -> int | None:
    """The schema version written in the database; None for an empty database."""
    tables = set(inspect(db.engine).get_table_names())
    if not tables:
        return None
    if "meta" not in tables:
        raise UserError(f"{safe_url(db.url)}: has tables but no competition schema version; "
                        "is it another program's database? Give an empty database to --db")
    with db.session() as session:
        value = session.scalar(select(Meta.value).where(Meta.key == "schema_version"))
    if value is None:
        raise UserError(f"{safe_url(db.url)}: no schema version stored; the database is damaged or not a competition's")
    return int(value)


def check_version(db: Database, version: int | None) -> None:
    if version == SCHEMA_VERSION:
        return
    where = safe_url(db.url)
    if version > SCHEMA_VERSION:
        raise UserError(f"{where}: database schema version {version} is newer than this kit's ({SCHEMA_VERSION}); "
                        "upgrade the kit (pip install -U inpaint-kit) on this machine, nothing was changed")
    changes = "; ".join(f"version {v}: {SCHEMA_CHANGES[v]}" for v in range(version + 1, SCHEMA_VERSION + 1)
                        if v in SCHEMA_CHANGES)
    raise UserError(f"{where}: database schema version {version} is older than this kit's ({SCHEMA_VERSION}"
                    f"{'; ' + changes if changes else ''}); back up the competition folder and database, "
                    "then migrate them by hand or run the older kit; nothing was changed")


def open_database(url: str, admin_token_hash: str | None = None) -> Database:
    """Connect, create the schema in an empty database, and check the stored schema version.

    An empty database gets the tables, the schema version and (if given) the admin token's hash.
    A database of another schema version raises a UserError saying what to do; nothing is changed.
    """
    db = connect(url)
    try:
        try:
            version = stored_version(db)
        except (OperationalError, InterfaceError) as exc:  # no server, wrong password, missing database
            reason = str(exc.orig or exc).strip().splitlines()[0]
            raise UserError(f"{safe_url(url)}: cannot open the database ({reason})") from None
        if version is None:
            Base.metadata.create_all(db.write_engine)
            with db.session(write=True) as session, session.begin():
                session.add(Meta(key="schema_version", value=str(SCHEMA_VERSION)))
                if admin_token_hash:
                    session.add(Meta(key="admin_token_hash", value=admin_token_hash))
            version = SCHEMA_VERSION
        check_version(db, version)
    except Exception:
        db.dispose()
        raise
    return db


def safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "the database"
