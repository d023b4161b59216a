"""The student's side of the competition server: `inpaint remote upload|submissions|leaderboard|finals|name`
(competition/client.py, standard library only: a student's laptop needs no server packages). Every string
printed here came from the server cleaned of control characters (competition/client.py `clean`)."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from inpaint.cli.shared import command_group, with_examples
from inpaint.errors import count

TIMEOUT_S = 300  # competition/client.py's; not imported: the parser is built without the client


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < 1e6:
        raise argparse.ArgumentTypeError(f"{text!r}: a number of seconds above 0")
    return value


def _remote(args):
    from competition.client import Remote

    return Remote(args.server or os.environ.get("INPAINT_SERVER"), args.token or os.environ.get("INPAINT_TOKEN"),
                  args.timeout)


def _score(value) -> str:
    return f"{value:.5f}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "-"


def cmd_remote_upload(args) -> int:
    result, me = _remote(args).upload(Path(args.csv), args.message)
    if result["status"] != "accepted":
        print(f"rejected (submission {result['id']}; does not count toward today's limit). The validator found:",
              file=sys.stderr)
        for line in result["findings"]:
            print(f"  {line}", file=sys.stderr)
        _print_diagnoses(result["diagnoses"], sys.stderr)
        if me["name_editable"]:
            print(f"the leaderboard will show you as {me['name']!r}; {CHANGE_NAME}", file=sys.stderr)
        return 2
    print(f"accepted: submission {result['id']}, public RMSE {_score(result['public_rmse'])}, "
          f"your rank {result['rank']}; {count(result['uploads_left'], 'upload')} left today (resets {result['resets_at']})")
    for line in result["findings"]:
        print(f"  {line}")
    _print_diagnoses(result["diagnoses"], sys.stdout)
    if me["name_editable"]:  # this upload fixed it: say so once, with the name others now see
        print(f"the leaderboard shows you as {me['name']!r}, fixed from this first accepted upload on "
              "(the organizer can still change it)")
    return 0


# The web pages send a participant with a generated name to choose one at sign-in; `inpaint remote` has
# no such moment, so `remote name` shows the name, and uploads say it until the first accepted one fixes it.
CHANGE_NAME = ("to choose another before your first accepted upload fixes it: "
               "inpaint remote name NEW (3 to 24 letters, digits, . - _ or spaces)")


def cmd_remote_name(args) -> int:
    remote = _remote(args)
    if args.new:
        print(f"your display name is now {remote.choose_name(args.new)!r}: the leaderboard shows it, never your name")
        return 0
    me = remote.me()
    print(f"the leaderboard shows you as {me['name']!r}; "
          + (CHANGE_NAME if me["name_editable"] else "it can no longer change (your first accepted upload, or the "
                                                     "organizer's choice, fixed it)"))
    return 0


def _print_diagnoses(sentences: list[str], out) -> None:
    """submission/diagnose.py's sentences, as the server stored them with the upload."""
    for sentence in sentences:
        print(f"  likely mistake: {sentence}", file=out)


def cmd_remote_submissions(args) -> int:
    rows = _remote(args).submissions()
    if not rows:
        print("no submissions yet")
    for r in rows:
        private = f"  private {_score(r.get('private_rmse'))}" if "private_rmse" in r else ""
        print(f"  {r['id']:>5}  {r['created'][:19]}  {r['status']:<8}  public {_score(r['public_rmse'])}{private}"
              f"{'  [final]' if r['selected'] else ''}{'  [disqualified]' if r['disqualified'] else ''}"
              f"  {r['filename']}  {r['message']}")
        if r["status"] == "rejected":  # why, as the submission page shows it
            errors = [line for line in r["findings"] if line.startswith("error:")] or r["findings"]
            for line in errors[:MAX_REASONS]:
                print(f"         {line}")
            if len(errors) > MAX_REASONS:
                print(f"         ... and {len(errors) - MAX_REASONS} more (inpaint validate FILE lists them all)")
        _print_diagnoses(r["diagnoses"], sys.stdout)
    return 0


MAX_REASONS = 3  # per rejected submission in the list; the upload's own answer gave them all


def cmd_remote_leaderboard(args) -> int:
    board = _remote(args).leaderboard()
    print(f"{board['kind']} leaderboard" + (f" (closes {board['closes']})" if board["kind"] == "public" and board["closes"] else ""))
    for r in board["rows"]:
        print(f"  {r['rank']:>4}  {r['name']:<30} {_score(r['score'])}  {r['entries']} entries")
    return 0


def cmd_remote_finals(args) -> int:
    chosen = _remote(args).select_finals(args.ids)["ids"]
    print(f"final submissions: {', '.join(map(str, chosen))}" if chosen
          else "no final submissions selected: your best public ones will count")
    return 0


REMOTE_EXAMPLES = {
    "upload": "inpaint remote upload Predict.csv --message 'flip TTA' --server http://HOST:8000 --token T",
    "submissions": "inpaint remote submissions --server http://HOST:8000 --token T",
    "leaderboard": "export INPAINT_SERVER=http://HOST:8000 INPAINT_TOKEN=T; inpaint remote leaderboard",
    "finals": "inpaint remote finals 12 15 --server http://HOST:8000 --token T",
    "name": "inpaint remote name quiet-otter --server http://HOST:8000 --token T",
}


def register(add) -> None:
    """Add `remote` to the `inpaint` parser."""
    actions = command_group(add, "remote", "a student's side of the server: upload, submissions, leaderboard, finals, name",
                     ["inpaint remote upload Predict.csv --message 'flip TTA' --server http://HOST:8000 --token T",
                      "export INPAINT_SERVER=http://HOST:8000 INPAINT_TOKEN=T; inpaint remote leaderboard"])
    for name, handler, help_text in (
            ("upload", cmd_remote_upload,
             "upload a CSV; prints public score, rank, uploads left and the likely mistake (or every problem)"),
            ("submissions", cmd_remote_submissions, "your submissions, their scores and likely mistakes"),
            ("leaderboard", cmd_remote_leaderboard, "the leaderboard (public until the deadline, then private)"),
            ("finals", cmd_remote_finals, "select the submissions for the private leaderboard (none: the best public)"),
            ("name", cmd_remote_name, "show your display name (what the leaderboard shows), or choose NEW before your "
                                      "first accepted upload")):
        p = actions.add_parser(name, help=help_text, description=help_text, **with_examples(REMOTE_EXAMPLES[name]))
        p.set_defaults(handler=handler)
        p.add_argument("--server", help="server URL (default: $INPAINT_SERVER)")
        p.add_argument("--token", help="your token (default: $INPAINT_TOKEN)")
        p.add_argument("--timeout", type=positive_seconds, default=TIMEOUT_S, metavar="S",
                       help=f"give up on an answer not complete after S seconds (default {TIMEOUT_S}: an upload is "
                            "judged before the answer)")
        if name == "upload":
            p.add_argument("csv", help="the submission CSV (Predict.csv)")
            p.add_argument("--message", "-m", default="", help="a note to remember what this was")
        if name == "name":
            p.add_argument("new", nargs="?", help="the new display name (none: show the current one)")
        if name == "finals":
            p.add_argument("ids", type=int, nargs="*", help="submission ids (none: go back to the best public ones)")
