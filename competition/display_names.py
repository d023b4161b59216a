"""Display names: what other participants and anonymous visitors see instead of the roster's real name.

The rules (docs/hosting.md, "Names on public boards"):

- 3 to 24 characters: ASCII letters and digits, and single spaces, dots, hyphens or underscores
  between them, with at least one letter. ASCII only, so that no look-alike letter of another
  alphabet can pass for someone else's name.
- Unique by `name_key`: lower case with the separators removed, so "Blue Fox", "blue-fox" and
  "BLUEFOX" are one name.
- A name a student chooses may not contain their roster name, any of its words of 3 letters or
  more, their e-mail address's user part or their student id (compared as keys, accents removed).
- A name may not start with a word the pages use for someone else (organizer, reference, ...).

A generated name (adjective-animal-NN) comes from the competition's own salt and the participant's
database id, never from the name: the same competition gives the same names, and a candidate that
happens to contain a part of the person's name is skipped like a taken one.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata

from inpaint.errors import UserError

MIN_LENGTH, MAX_LENGTH = 3, 24
ALLOWED = re.compile(r"[A-Za-z0-9]+(?:[ ._-][A-Za-z0-9]+)*")
SEPARATORS = re.compile(r"[ ._-]")
RESERVED = ("organizer", "organiser", "admin", "reference", "teacher", "instructor", "staff")
FORM = (f"{MIN_LENGTH} to {MAX_LENGTH} characters: letters A-Z and digits (at least one letter), with single spaces, "
        "dots, hyphens or underscores between them")
RULES = f"{FORM}; not your name, your e-mail or your student id, nor a part of them"

ADJECTIVES = ("agile", "amber", "bold", "brave", "bright", "calm", "clever", "cosmic", "crisp", "curious", "daring",
              "deft", "eager", "early", "fair", "fancy", "fleet", "gentle", "glad", "golden", "grand", "happy",
              "hardy", "honest", "humble", "jolly", "keen", "kind", "lively", "lucky", "merry", "mighty", "modest",
              "nimble", "noble", "patient", "plucky", "polite", "proud", "quick", "quiet", "rapid", "ready", "sharp",
              "shiny", "silent", "smart", "snappy", "solar", "steady", "stellar", "sturdy", "sunny", "swift",
              "tidy", "tranquil", "upbeat", "valiant", "vivid", "warm", "wise", "witty", "young", "zesty")
ANIMALS = ("albatross", "alpaca", "badger", "beaver", "bison", "bobcat", "camel", "caribou", "cheetah", "condor",
           "coyote", "crane", "dingo", "dolphin", "eagle", "egret", "falcon", "ferret", "finch", "gazelle", "gecko",
           "gibbon", "heron", "hippo", "ibex", "ibis", "iguana", "jackal", "jaguar", "kestrel", "koala", "lemur",
           "leopard", "lynx", "macaw", "marmot", "meerkat", "mole", "moose", "narwhal", "newt", "ocelot", "octopus",
           "orca", "osprey", "otter", "panda", "pelican", "penguin", "puffin", "quail", "raven", "salmon",
           "seal", "sparrow", "stork", "tapir", "toucan", "turtle", "walrus", "weasel", "wombat", "yak", "zebra")


class DisplayNameRefused(UserError):
    """A display name that breaks a rule (the API answers 400)."""

    status = 400


class DisplayNameTaken(UserError):
    status = 409


class DisplayNameFixed(UserError):
    """The name can no longer be changed by the participant (the API answers 403)."""

    status = 403


def ascii_fold(text: str) -> str:
    """Accents removed, lower case: 'Zoë Ångström' -> 'zoe angstrom'."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def name_key(name: str) -> str:
    """What two names must not share: lower case, accents and separators removed."""
    return SEPARATORS.sub("", ascii_fold(name))


def tidy(name: str) -> str:
    """Surrounding spaces removed and runs of spaces made one (what a form or a roster cell may carry)."""
    return " ".join(str(name).split())


def check_form(name: str) -> str:
    """The tidied name if its length, characters and first word are allowed; else DisplayNameRefused."""
    name = tidy(name)
    if not MIN_LENGTH <= len(name) <= MAX_LENGTH or not ALLOWED.fullmatch(name) or not any(c.isalpha() for c in name):
        raise DisplayNameRefused(f"display name {name[:40]!r}: {FORM}")
    if name_key(name).startswith(RESERVED):
        raise DisplayNameRefused(f"display name {name!r}: names starting with "
                                 f"{', '.join(RESERVED)} are kept for the site's own rows")
    return name


def private_parts(name: str, email: str = "", student_id: str = "") -> set[str]:
    """The keys a public name must not contain: the whole name, its words of 3+ letters, the
    e-mail's user part and its pieces of 3+ characters, the student id."""
    words = re.split(r"[^a-z0-9]+", ascii_fold(name))
    user = ascii_fold(email.split("@", 1)[0]) if email else ""
    parts = {name_key(name), name_key(user), name_key(student_id)}
    parts |= {w for w in words if len(w) >= 3} | {p for p in re.split(r"[^a-z0-9]+", user) if len(p) >= 3}
    return {p for p in parts if len(p) >= 3}


def reveals(display_name: str, name: str, email: str = "", student_id: str = "") -> bool:
    """True if the display name contains the person's name, a word of it, their e-mail or student id."""
    key = name_key(display_name)
    return any(part in key for part in private_parts(name, email, student_id))


def check_chosen(display_name: str, name: str, email: str = "", student_id: str = "") -> str:
    """A name a participant chose: the form rules, and nothing of who they are. Returns it tidied."""
    display_name = check_form(display_name)
    if reveals(display_name, name, email, student_id):
        raise DisplayNameRefused("a display name may not contain your name, a word of it, your e-mail or your "
                                 "student id: it is shown to everyone")
    return display_name


def candidate(salt: str, participant_id: int, attempt: int) -> str:
    """The `attempt`-th generated name of a participant: adjective-animal-NN from a hash of the
    competition's salt and the participant's id (so the same in every run, and unrelated to the name)."""
    digest = hashlib.sha256(f"{salt}|{participant_id}|{attempt}".encode()).digest()
    number = int.from_bytes(digest[:8], "big")
    adjective, animal = ADJECTIVES[number % len(ADJECTIVES)], ANIMALS[number // len(ADJECTIVES) % len(ANIMALS)]
    return f"{adjective}-{animal}-{10 + digest[8] % 90}"


def generated_name(salt: str, participant_id: int, taken: set[str], name: str, email: str = "",
                   student_id: str = "") -> str:
    """The first candidate whose key is not in `taken` and which reveals nothing of the person."""
    for attempt in range(10_000):  # 64 x 64 x 90 names: a class never comes close
        found = candidate(salt, participant_id, attempt)
        if name_key(found) not in taken and not reveals(found, name, email, student_id):
            return found
    raise UserError("no free generated display name left; give display names in the roster's display_name column")
