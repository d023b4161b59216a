"""The organizer's hosting commands: `inpaint competition init|participants|rescore|export` and `inpaint serve`
(the student's side is remote.py; the server's load test, `inpaint bench serve`, is bench.py's)."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from inpaint.cli.shared import command_group, with_examples
from inpaint.errors import UserError

SERVER_PACKAGES_HINT = 'the server needs its extra packages: pip install -e ".[serve]"'


def _server_modules():
    """Import the server side, or say how to install it (a student's laptop need not have it)."""
    try:
        from competition import maintenance, service
    except ImportError as exc:
        raise UserError(f"{SERVER_PACKAGES_HINT} ({exc.name} is missing)") from None
    return service, maintenance


# ---------------------------------------------------------------- organizer
def cmd_init(args) -> int:
    from competition.settings import parse_deadline
    from competition.setup import init_competition

    rules = {"title": args.title, "deadline": parse_deadline(args.deadline), "daily_limit": args.daily_limit,
             "rejected_daily_limit": args.rejected_daily_limit, "final_picks": args.final_picks, "public_fraction": args.public_fraction, "split_by": args.split_by,
             "seed": args.seed, "baseline": args.baseline, "strong": args.strong, "max_upload_mb": args.max_upload_mb}
    s = init_competition(Path(args.data), Path(args.dir), db_url=args.db, **rules)
    rules = s["settings"]
    print(f"competition {rules.title!r} in {s['dir']}: {rules.n_images} test images of "
          f"{rules.image_size[0]}x{rules.image_size[1]}, {s['public_parts']} of {s['parts']} {rules.split_by} parts public")
    print(f"  deadline {rules.deadline.isoformat() if rules.deadline else 'none'}; {rules.daily_limit} accepted uploads a day "
          f"(and {rules.rejected_daily_limit} rejected ones); "
          f"{rules.final_picks} final picks; uploads up to {rules.max_upload_mb:g} MB")
    print(f"  student download: {s['dir'] / 'student_data.zip'} ({s['student_files']} images + sample_submission.csv)")
    print(f"  test boxes: {s['dir'] / 'test_boxes.csv'} (as `inpaint check-data --data {args.data}` finds them; "
          "judging, flags and pictures use these)")
    print(f"  database: {s['db']}; admin token: {s['admin_token_file']} (readable by you only)")
    print(f"next: inpaint competition participants --dir {args.dir} --add roster.csv")
    return 0


def cmd_boxes(args) -> int:
    from competition.settings import CompetitionPaths, load_settings
    from competition.setup import store_test_boxes

    load_settings(args.dir)  # one clear line when --dir is no competition folder
    path = store_test_boxes(Path(args.data), CompetitionPaths(Path(args.dir)))
    print(f"wrote {path}: the test boxes as `inpaint check-data --data {args.data}` finds them; restart `inpaint serve`")
    return 0


def cmd_participants(args) -> int:
    from competition.participants import add_participants, formula_cells, read_roster, revealing_display_names

    service, _ = _server_modules()
    comp = service.Competition(args.dir, args.db)
    try:
        if args.add:
            people = read_roster(Path(args.add))
            path = add_participants(comp.db, args.dir, people)
            print(f"added {len(people)} participants; their tokens are in {path} (readable by you only; "
                  "send each participant their own line); next: inpaint serve --dir " + str(args.dir))
            shown = revealing_display_names(people)
            if shown:
                print(f"warning: the roster's display_name of {', '.join(shown[:5])} holds a part of a name, e-mail "
                      "or student id of the roster; everyone will see it (--display-name ID NAME replaces one)")
            formulas = formula_cells(people)
            if formulas:
                print(f"warning: {len(formulas)} roster cell(s) begin with = + - @, a tab or a return, which a spreadsheet "
                      f"runs as a formula ({', '.join(repr(c[:40]) for c in formulas[:5])}); leaderboard.csv, the "
                      "gradebook files and the tokens file write them with a leading ' (shown as text); a student id "
                      "written so will not match in the gradebook: correct the roster if it is a typo")
        if args.display_name:
            number, wanted = args.display_name
            if not number.isdigit():
                raise UserError(f"--display-name {number!r}: give the participant's id (the first column below)")
            print(f"participant {number} is now shown as {comp.set_display_name(int(number), wanted)!r}")
        for p in comp.participants():
            print(f"  {p['id']:>4}  {p['name']:<30} {p['display_name']:<24} {p['email']:<30} {p['submissions']:>4} "
                  "submissions" + (f" ({p['disqualified']} disqualified)" if p["disqualified"] else ""))
    finally:
        comp.close()
    return 0


def cmd_rotate_token(args) -> int:
    service, _ = _server_modules()
    comp = service.Competition(args.dir, args.db)
    try:
        if args.participant is not None:
            new = comp.rotate_participant_token(args.participant)
        else:
            path = comp.rotate_admin_token()
    finally:
        comp.close()
    if args.participant is not None:
        print(f"new token of participant {new['id']} ({new['name']}), shown this once; send it to them only:")
        print(f"  {new['token']}")
        print("their old token and every session of theirs, also on a running server, no longer work")
        return 0
    print(f"new organizer token in {path} (readable by you only); the old one and every organizer session, "
          "also on a running server, no longer work")
    return 0


def cmd_rescore(args) -> int:
    service, maintenance = _server_modules()
    comp = service.Competition(args.dir, args.db)
    try:
        if args.fill_judgements:
            print(f"stored what judging derives for {maintenance.fill_judgements(comp)} submissions without it; "
                  "copy flags rebuilt")
        report = maintenance.rescore(comp)
    finally:
        comp.close()
    for m in report["mismatches"]:
        print(f"  submission {m['id']}: stored {m['stored']}, recomputed {m['now']}")
    if report["missing_files"]:
        print(f"  files missing for submissions {report['missing_files']}")
    same = report["checked"] - len(report["mismatches"]) - len(report["missing_files"])
    print(f"rescored {report['checked']} submissions from their stored files: {same} identical to the stored scores, "
          f"{len(report['mismatches'])} different, {len(report['missing_files'])} without a file")
    return 0 if same == report["checked"] else 1


def export_leaderboard(args, out: Path) -> str:
    service, maintenance = _server_modules()
    comp = service.Competition(args.dir, args.db)
    try:
        table = maintenance.export_leaderboard(comp, out)
    finally:
        comp.close()
    return f"wrote {out}: {len(table)} participants ranked by private RMSE, with grades and flags"


def export_gradebook(args, out: Path) -> str:
    """Grades out of 10 for Moodle's or Canvas's CSV grade import (competition/gradebook.py)."""
    from competition import gradebook

    if args.lms is None:
        raise UserError("--format gradebook needs --lms moodle or --lms canvas (their import files differ)")
    if args.key and args.lms != "moodle":
        raise UserError("--key is for --lms moodle; Canvas matches a row by SIS User ID, SIS Login ID or name")
    service, _ = _server_modules()
    comp = service.Competition(args.dir, args.db)
    try:
        lines = gradebook.export_gradebook(comp, out, args.lms, args.key or "email", args.item, args.provisional)
    finally:
        comp.close()
    return f"wrote {out}: {gradebook.summary(lines, args.lms, args.provisional)}"


def export_platform(args, out: Path) -> str:
    """A Codabench bundle or a Kaggle package (competition/platforms/), from --dir or --data."""
    try:
        from competition.platforms import export
    except ImportError as exc:
        raise UserError(f"{SERVER_PACKAGES_HINT} ({exc.name} is missing)") from None
    if args.data:
        s = export.export_data_folder(Path(args.data), out, args.format)
    else:
        s = export.export_competition(Path(args.dir), out, args.format)
    note = f"\nnote: {s['note']}" if s["note"] else ""
    return f"wrote {s['out']}: {args.format} package of {len(s['files'])} files ({', '.join(s['files'])}){note}"


# Each format: its writer, and the option that names what it writes (a CSV is --csv in every command).
EXPORT_FORMATS = {"leaderboard": (export_leaderboard, "--csv"), "gradebook": (export_gradebook, "--csv"),
                  "codabench": (export_platform, "--package"), "kaggle": (export_platform, "--package")}


def export_target(args) -> Path:
    """What --format writes to: --csv (leaderboard) or --package (codabench, kaggle); the old --out still works."""
    option = EXPORT_FORMATS[args.format][1]
    given = {o: getattr(args, o[2:]) for o in ("--csv", "--package") if getattr(args, o[2:])}
    if set(given) - {option}:
        raise UserError(f"--format {args.format} writes {option}, not {', '.join(sorted(set(given) - {option}))}")
    if args.old_out:
        print(f"note: inpaint competition export --out is now {option} for --format {args.format} (--out is a folder "
              f"in every other command); read as {option} {args.old_out}", file=sys.stderr)
        given.setdefault(option, args.old_out)
    if option not in given:
        raise UserError(f"--format {args.format} needs {option} (" + ("a .csv" if option == "--csv" else
                        "codabench: a .zip; kaggle: a .zip or a new folder") + ")")
    return Path(given[option])


def cmd_export(args) -> int:
    if args.dir is None and args.format in ("leaderboard", "gradebook"):
        raise UserError(f"--format {args.format} needs --dir COMP (a served competition), not --data")
    writer, _ = EXPORT_FORMATS[args.format]
    print(writer(args, export_target(args)))
    return 0


def cmd_serve(args) -> int:
    service, maintenance = _server_modules()
    from competition.api import serve

    comp = service.Competition(args.dir, args.db)  # checks the folder and the schema version before any worker starts
    comp.close()
    removed = maintenance.clean_incoming(comp.paths)
    print(f"serving {comp.settings.title!r} on http://{args.host}:{args.port}/ (API /api, docs /docs); "
          f"{args.workers} worker(s); cleaned {removed} interrupted uploads. Ctrl-C stops.", flush=True)
    serve.run(Path(args.dir).resolve(), args.db, args.host, args.port, args.workers, args.judge_processes,
              args.log_level)
    return 0


# ---------------------------------------------------------------- parser
def _db_option(p):
    p.add_argument("--db", help="database URL (default: SQLite COMP/competition.db), e.g. postgresql+psycopg://user@host/db")


def register(add) -> None:
    """Add `competition` and `serve` to the `inpaint` parser."""
    from submission.grading import COURSE_BASELINE, COURSE_STRONG  # grader.register imports it too

    actions = command_group(add, "competition", "host the competition: build its folder, add participants, rescore, export",
                     ["inpaint competition init --data DATA --dir COMP --deadline 2026-12-20T23:59:00+08:00",
                      "inpaint competition participants --dir COMP --add roster.csv"])
    p = actions.add_parser("init", help="build a competition folder from a data folder with answers (Testing/Real)",
                           **with_examples("inpaint competition init --data DATA --dir COMP "
                                           "--deadline 2026-12-20T23:59:00+08:00"))
    p.set_defaults(handler=cmd_init)
    p.add_argument("--data", required=True, help="data folder with Testing/Real")
    p.add_argument("--dir", required=True, help="competition folder to create")
    p.add_argument("--title", default="Mouth generation", help="the title every page shows (default: Mouth generation)")
    p.add_argument("--deadline", help="end, with a UTC offset: 2026-12-20T23:59:00+08:00 (default: none)")
    p.add_argument("--daily-limit", type=int, default=20, help="accepted uploads per participant per UTC day (default 20)")
    p.add_argument("--rejected-daily-limit", type=int, default=None,
                   help="rejected uploads taken per participant per UTC day; they are stored, so this bounds the disk "
                        "(default 5 x --daily-limit)")
    p.add_argument("--final-picks", type=int, default=2, help="submissions each may select for the private board (default 2)")
    p.add_argument("--public-fraction", type=float, default=0.3,
                   help="the part of the test set the public leaderboard scores; the rest decides the final one (default 0.3)")
    p.add_argument("--split-by", choices=("image", "pixel"), default="image",
                   help="split the test set into public and private by whole images or by pixels (default image)")
    p.add_argument("--seed", type=int, default=0, help="seed of the public/private split")
    p.add_argument("--baseline", type=float, default=COURSE_BASELINE, help="RMSE graded 3/10 (default: the course's)")
    p.add_argument("--strong", type=float, default=COURSE_STRONG, help="RMSE graded 8/10 (default: the course's)")
    p.add_argument("--max-upload-mb", type=float, default=50.0,
                   help="the largest upload accepted, in MB (default 50)")
    _db_option(p)

    p = actions.add_parser("boxes", help="find the test boxes again (COMP/test_boxes.csv) with the kit's finder, for a "
                                         "folder made by an older kit or after changing the data folder's White images",
                           **with_examples("inpaint competition boxes --dir COMP --data DATA"))
    p.set_defaults(handler=cmd_boxes)
    p.add_argument("--dir", required=True, help="the competition folder")
    p.add_argument("--data", required=True, help="the data folder the competition was made from")

    p = actions.add_parser("participants", help="add participants from a roster and list them (name, display name, "
                                                "e-mail, submissions)",
                           **with_examples(["inpaint competition participants --dir COMP --add roster.csv",
                                            "inpaint competition participants --dir COMP --display-name 7 quiet-otter"]))
    p.set_defaults(handler=cmd_participants)
    p.add_argument("--dir", required=True, help="the competition folder (`inpaint competition init`)")
    p.add_argument("--add", help="roster CSV: a header naming the columns name,email,student_id,display_name (all but "
                                 "name optional), or one name[,email] a line; prints where the new tokens were written")
    p.add_argument("--display-name", nargs=2, metavar=("ID", "NAME"),
                   help="replace participant ID's display name (the name everyone else sees)")
    _db_option(p)

    p = actions.add_parser("rotate-token", help="a new organizer token in COMP/secrets/admin_token.txt, or with "
                                                "--participant ID a new token for that participant (printed once); "
                                                "the old one and every session it opened stop working",
                           **with_examples(["inpaint competition rotate-token --dir COMP",
                                            "inpaint competition rotate-token --dir COMP --participant 7"]))
    p.set_defaults(handler=cmd_rotate_token)
    p.add_argument("--dir", required=True, help="the competition folder (`inpaint competition init`)")
    p.add_argument("--participant", type=int, metavar="ID",
                   help="replace this participant's token instead (the id `participants` lists); a leaked token")
    _db_option(p)

    p = actions.add_parser("rescore", help="recompute every score from the stored files; exit 1 unless all are identical",
                           **with_examples("inpaint competition rescore --dir COMP"))
    p.set_defaults(handler=cmd_rescore)
    p.add_argument("--dir", required=True, help="the competition folder (`inpaint competition init`)")
    p.add_argument("--fill-judgements", action="store_true",
                   help="first judge again each stored file without stored findings, flags, copy features and "
                        "thumbnails (a database upgraded to schema 5), and rebuild the copy flags")
    _db_option(p)

    p = actions.add_parser("export", help="write the final table (private RMSE of final picks, grade, flags), the "
                                          "grades for Moodle or Canvas, or the competition as a Codabench bundle or "
                                          "a Kaggle package",
                           **with_examples(["inpaint competition export --dir COMP --csv final.csv",
                                            "inpaint competition export --dir COMP --format gradebook --lms moodle "
                                            "--csv grades.csv",
                                            "inpaint competition export --data DATA --format codabench --package bundle.zip"]))
    p.set_defaults(handler=cmd_export)
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--dir", help="the competition folder (`inpaint competition init`)")
    source.add_argument("--data", help="codabench/kaggle: a data folder with answers instead of --dir (default rules)")
    p.add_argument("--csv", help="leaderboard: the final table's CSV to write; gradebook: the import file")
    p.add_argument("--package", help="codabench: the bundle .zip to write; kaggle: a .zip or a new folder")
    p.add_argument("--out", dest="old_out", help=argparse.SUPPRESS)  # before --csv and --package; still read
    p.add_argument("--format", choices=sorted(EXPORT_FORMATS), default="leaderboard",
                   help="leaderboard (default): the final table; gradebook: grades out of 10 for --lms; "
                        "codabench or kaggle: a package for that platform")
    p.add_argument("--lms", choices=("moodle", "canvas"), help="gradebook: the system whose CSV grade import reads it")
    p.add_argument("--key", choices=("email", "student_id"),
                   help="gradebook for moodle: identify students by the roster's e-mail (default) or student_id")
    p.add_argument("--item", help="gradebook: the grade column's name (default: the competition's title)")
    p.add_argument("--provisional", action="store_true",
                   help="gradebook before the deadline: grades from the public leaderboard, marked provisional")
    _db_option(p)

    p = add("serve", cmd_serve, "run the competition server (JSON API /api, docs /docs, web pages)",
            example="inpaint serve --dir COMP --host 0.0.0.0 --port 8000")
    p.add_argument("--dir", required=True, help="the competition folder (`inpaint competition init`)")
    p.add_argument("--host", default="127.0.0.1", help="127.0.0.1 (this machine only, default) or 0.0.0.0 (the network)")
    p.add_argument("--port", type=int, default=8000, help="the TCP port to listen on (default 8000)")
    p.add_argument("--workers", type=int, default=1, help="server processes (PostgreSQL recommended above 1)")
    p.add_argument("--judge-processes", type=int, default=os.cpu_count() or 1,
                   help="processes per worker that parse and score uploads (default: one per CPU core)")
    p.add_argument("--log-level", default="warning", choices=("critical", "error", "warning", "info", "debug"),
                   help="what the server logs to stderr (default warning)")
    _db_option(p)
