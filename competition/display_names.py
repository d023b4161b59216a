"""Display names: what other participants and anonymous visitors see instead of the roster's real name.

The rules (docs/hosting.md, "Names on public boards"):

- 3 to 24 characters: ASCII letters and digits, and single spaces, dots, hyphens or underscores
  between them, with at least one letter. ASCII only, so that no look-alike letter of another
  alphabet can pass for someone else's name.
- Unique by `name_key`: lower case with the separators removed, so "Blue Fox", "blue-fox" and
  "BLUEFOX" are one name; and a look-alike of a name taken is taken: names are also compared by
  `lookalike_key`, which folds the usual substitutions (0/o, 1/l/i, 3/e, 4/a, 5/s, 7/t, rn/m, ...),
  so "sw1ft-heron", "swift-her0n" and "swlft-heron" are "swift-heron".
- A name a student chooses may not contain their roster name, any of its words of 3 letters or
  more, their e-mail address's user part or their student id; nor another registered person's full
  name, surname, first name with the surname's initial ("Yorick B"), e-mail user part or student id,
  each of MIN_OTHERS_PART characters or more (all compared as look-alike keys, accents removed).
- No name may hold, anywhere and in any look-alike spelling, a word that pretends to be the staff or a
  reference row (RESERVED: "0rganizer", "Admln", "the organizer", "course staff", "TA Grader",
  "referenc3", "strong baseline").

A generated name (adjective-animal-NN) comes from the competition's own salt and the participant's
database id, never from the name: the same competition gives the same names, and a candidate that
happens to contain a part of the person's name is skipped like a taken one.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata

from submission.errors import UserError

MIN_LENGTH, MAX_LENGTH = 3, 24
ALLOWED = re.compile(r"[A-Za-z0-9]+(?:[ ._-][A-Za-z0-9]+)*")
SEPARATORS = re.compile(r"[ ._-]")
RESERVED = ("organizer", "organiser", "admin", "reference", "teacher", "instructor", "staff", "baseline", "grader",
            "moderator", "official", "professor", "lecturer")
# The substitutions people use to pass for another name: digits and signs for letters, then letter pairs
# that read as one letter. Folded on both sides of every comparison (display names, roster parts, RESERVED).
LOOKALIKE_CHARS = str.maketrans({"0": "o", "1": "i", "l": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
                                 "9": "g", "6": "g", "2": "z"})
LOOKALIKE_PAIRS = (("rn", "m"), ("vv", "w"))
# Another person's surname, e-mail user part or student id refuses a name only from this length: at 3,
# the surnames of a class (Lee, Kim, Fox, Ali, Day ...) refuse common words; tests/test_display_name_
# lookalikes.py measures the share of refused adjective-animal names on a roster of 300 at 3, 4 and 5.
MIN_OTHERS_PART = 4
FORM = (f"{MIN_LENGTH} to {MAX_LENGTH} characters: letters A-Z and digits (at least one letter), with single spaces, "
        "dots, hyphens or underscores between them")
RULES = (f"{FORM}; not your name, your e-mail or your student id, nor a part of them, nor another participant's "
         "name or student id, nor a word of the staff's (organizer, admin, grader, baseline ...)")

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


def lookalike_key(name: str) -> str:
    """`name_key` with look-alike characters folded: 'Sw1ft-Her0n' -> 'swifthemon' as 'swift heron' does."""
    key = SEPARATORS.sub("", ascii_fold(name).translate(LOOKALIKE_CHARS))
    for pair, letter in LOOKALIKE_PAIRS:
        key = key.replace(pair, letter)
    return key


RESERVED_KEYS = tuple(lookalike_key(word) for word in RESERVED)


def tidy(name: str) -> str:
    """Surrounding spaces removed and runs of spaces made one (what a form or a roster cell may carry)."""
    return " ".join(str(name).split())


def check_form(name: str) -> str:
    """The tidied name if its length, characters and first word are allowed; else DisplayNameRefused."""
    name = tidy(name)
    if not MIN_LENGTH <= len(name) <= MAX_LENGTH or not ALLOWED.fullmatch(name) or not any(c.isalpha() for c in name):
        raise DisplayNameRefused(f"display name {name[:40]!r}: {FORM}")
    if any(word in lookalike_key(name) for word in RESERVED_KEYS):
        raise DisplayNameRefused(f"display name {name!r}: names holding {', '.join(RESERVED)} (in any spelling) "
                                 "are kept for the staff and the site's own rows")
    return name


def private_parts(name: str, email: str = "", student_id: str = "") -> set[str]:
    """The look-alike keys a person's own public name must not contain: the whole name, its words of 3+
    letters, the e-mail's user part and its pieces of 3+ characters, the student id."""
    words = re.split(r"[^a-z0-9]+", ascii_fold(name))
    user = ascii_fold(email.split("@", 1)[0]) if email else ""
    parts = {name, user, student_id} | {w for w in words if len(w) >= 3}
    parts |= {p for p in re.split(r"[^a-z0-9]+", user) if len(p) >= 3}
    return {key for key in map(lookalike_key, parts) if len(key) >= 3}


def others_parts(name: str, email: str = "", student_id: str = "") -> set[str]:
    """The look-alike keys nobody else's public name may contain: the full name, the surname (the last
    word), the first name with the surname's initial, the e-mail's user part, the student id; each of
    MIN_OTHERS_PART characters or more (a first name alone is too common a word to refuse)."""
    words = [w for w in re.split(r"[^a-z0-9]+", ascii_fold(name)) if w]
    parts = {name, email.split("@", 1)[0] if email else "", student_id}
    if len(words) >= 2:
        parts |= {words[-1], words[0] + words[-1][0]}
    return {key for key in map(lookalike_key, parts) if len(key) >= MIN_OTHERS_PART}


def reveals(display_name: str, name: str, email: str = "", student_id: str = "") -> bool:
    """True if the display name contains the person's name, a word of it, their e-mail or student id."""
    key = lookalike_key(display_name)
    return any(part in key for part in private_parts(name, email, student_id))


def check_chosen(display_name: str, name: str, email: str = "", student_id: str = "",
                 others: frozenset[str] = frozenset()) -> str:
    """A name a participant chose: the form rules, nothing of who they are and none of `others` (the
    `others_parts` of everyone else registered). Returns it tidied."""
    display_name = check_form(display_name)
    if reveals(display_name, name, email, student_id):
        raise DisplayNameRefused("a display name may not contain your name, a word of it, your e-mail or your "
                                 "student id: it is shown to everyone")
    key = lookalike_key(display_name)
    if any(part in key for part in others):  # which one is not said: the answer would tell who is registered
        raise DisplayNameRefused("a display name may not contain another participant's name, surname, e-mail or "
                                 "student id (in any spelling): choose a name that is nobody's")
    return display_name


def candidate(salt: str, participant_id: int, attempt: int) -> str:
    """The `attempt`-th generated name of a participant: adjective-animal-NN from a hash of the
    competition's salt and the participant's id (so the same in every run, and unrelated to the name)."""
    digest = hashlib.sha256(f"{salt}|{participant_id}|{attempt}".encode()).digest()
    number = int.from_bytes(digest[:8], "big")
    adjective, animal = ADJECTIVES[number % len(ADJECTIVES)], ANIMALS[number // len(ADJECTIVES) % len(ANIMALS)]
    return f"{adjective}-{animal}-{10 + digest[8] % 90}"


def generated_name(salt: str, participant_id: int, taken: set[str], name: str, email: str = "",
                   student_id: str = "", others: frozenset[str] = frozenset()) -> str:
    """The first candidate whose look-alike key is not in `taken` and which holds nothing of the person nor
    of `others` (everyone's `others_parts`: an animal may be a classmate's surname, Crane or Finch)."""
    for attempt in range(10_000):  # 64 x 64 x 90 names: a class never comes close
        found = candidate(salt, participant_id, attempt)
        key = lookalike_key(found)
        if key not in taken and not reveals(found, name, email, student_id) and not any(p in key for p in others):
            return found
    raise UserError("no free generated display name left; give display names in the roster's display_name column")
