"""Building a competition folder, its rules file, tokens, the schema version, and the organizer's CLI."""
import csv
import stat
import tracemalloc
import zipfile
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pandas as pd
import pytest

pytest.importorskip("sqlalchemy")
from sqlalchemy import update  # noqa: E402

from competition import db as database  # noqa: E402
from competition.judge import inspect_file  # noqa: E402
from competition.ranking import final_choice, rank_rows  # noqa: E402
from competition.service import Competition  # noqa: E402
from competition.settings import Settings, load_settings, write_settings  # noqa: E402
from competition_fixtures import Clock, make_competition, offset_csv  # noqa: E402
from conftest import write_set  # noqa: E402


def test_settings_round_trip_through_competition_toml(tmp_path):
    deadline = datetime(2026, 12, 20, 23, 59, tzinfo=timezone(timedelta(hours=8)))
    rules = Settings(title='Mouth "generation"', deadline=deadline, daily_limit=7, final_picks=3,
                     public_fraction=0.25, split_by="pixel", seed=4, image_size=(64, 32), n_images=5)
    write_settings(tmp_path, rules)
    assert load_settings(tmp_path) == rules
    assert load_settings(tmp_path).deadline.utcoffset() == timedelta(hours=8)


def test_rejected_uploads_cap_defaults_to_five_daily_limits_and_is_written_to_the_rules(run_cli, tmp_path):
    data = write_set(tmp_path / "data", n_train=2, n_test=3, size=16)
    assert run_cli("competition", "init", "--data", data, "--dir", tmp_path / "c", "--daily-limit", "4")[0] == 0
    assert "rejected_daily_limit = 20\n" in (tmp_path / "c" / "competition.toml").read_text()
    assert Settings(daily_limit=3, rejected_daily_limit=7).rejected_daily_limit == 7
    assert load_settings(tmp_path / "c").rejected_daily_limit == 20
    code, out, _ = run_cli("competition", "init", "--data", data, "--dir", tmp_path / "d", "--rejected-daily-limit", "9")
    assert code == 0 and "20 accepted uploads a day (and 9 rejected ones)" in out
    assert load_settings(tmp_path / "d").rejected_daily_limit == 9


def test_bad_rules_and_a_deadline_without_offset_are_refused(run_cli, tmp_path):
    data = write_set(tmp_path / "data", n_train=2, n_test=3, size=16)
    code, _, err = run_cli("competition", "init", "--data", data, "--dir", tmp_path / "c", "--deadline", "2026-12-20T23:59")
    assert code == 2 and "no UTC offset" in err and err.count("\n") == 1
    code, _, err = run_cli("competition", "init", "--data", data, "--dir", tmp_path / "c", "--daily-limit", "0")
    assert code == 2 and "daily_limit" in err


def test_init_refuses_a_data_folder_without_answers_in_one_line(run_cli, tmp_path):
    data = write_set(tmp_path / "data", n_train=2, n_test=3, size=16, answers=False)
    code, out, err = run_cli("competition", "init", "--data", data, "--dir", tmp_path / "comp")
    assert code == 2 and out == ""
    assert "no Testing/Real folder" in err and err.count("\n") == 1
    assert not (tmp_path / "comp").exists()


def test_init_builds_the_folder_and_keeps_answers_out_of_the_student_zip(run_cli, tmp_path):
    data = write_set(tmp_path / "data", n_train=4, n_test=3, size=16)
    code, out, err = run_cli("competition", "init", "--data", data, "--dir", tmp_path / "comp", "--daily-limit", "4",
                             "--deadline", "2026-12-20T23:59:00+08:00", "--title", "Test cup")
    assert code == 0, err
    comp = tmp_path / "comp"
    rules = load_settings(comp)
    assert (rules.title, rules.daily_limit, rules.image_size, rules.n_images) == ("Test cup", 4, (16, 16), 3)
    with zipfile.ZipFile(comp / "student_data.zip") as archive:
        names = archive.namelist()
    assert len([n for n in names if n.startswith("Training/Real/")]) == 4
    assert len([n for n in names if n.startswith("Testing/White/")]) == 3
    assert not [n for n in names if "Testing/Real" in n] and "sample_submission.csv" in names
    assert pd.read_csv(comp / "split.csv")["Usage"].tolist().count("Public") == 1  # 0.3 of 3 images
    assert stat.S_IMODE((comp / "secrets").stat().st_mode) == 0o700
    assert stat.S_IMODE((comp / "secrets" / "admin_token.txt").stat().st_mode) == 0o600
    assert stat.S_IMODE((comp / "solution.csv").stat().st_mode) == 0o600
    code, _, err = run_cli("competition", "init", "--data", data, "--dir", comp)
    assert code == 2 and "already holds a competition" in err


def test_participants_get_tokens_in_a_private_file_and_only_hashes_in_the_database(run_cli, tmp_path):
    data = write_set(tmp_path / "data", n_train=2, n_test=3, size=16)
    run_cli("competition", "init", "--data", data, "--dir", tmp_path / "comp")
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email\nAda Lovelace,ada@example.org\nAlan Turing\n")
    code, out, err = run_cli("competition", "participants", "--dir", tmp_path / "comp", "--add", roster)
    assert code == 0, err
    token_file = next((tmp_path / "comp" / "secrets").glob("tokens-*.csv"))
    assert str(token_file) in out and "Ada Lovelace" in out
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    people = list(csv.DictReader(token_file.open()))
    assert [p["name"] for p in people] == ["Ada Lovelace", "Alan Turing"] and people[0]["email"] == "ada@example.org"
    stored = (tmp_path / "comp" / "competition.db").read_bytes()
    assert all(p["token"].encode() not in stored for p in people)
    comp = Competition(tmp_path / "comp")
    assert comp.authenticate(people[1]["token"]).name == "Alan Turing"
    assert comp.authenticate(people[1]["token"][:-1] + "x") is None and not comp.is_admin(people[1]["token"])
    comp.close()
    code, _, err = run_cli("competition", "participants", "--dir", tmp_path / "comp", "--add", roster)
    assert code == 2 and "already registered: Ada Lovelace, Alan Turing" in err


def test_rotate_token_command_replaces_the_organizer_token_and_ends_its_sessions(run_cli, tmp_path):
    comp = make_competition(tmp_path)
    service = Competition(comp.dir)
    session = service.open_sign_in(None, admin=True)
    code, out, err = run_cli("competition", "rotate-token", "--dir", comp.dir)
    new = (comp.dir / "secrets" / "admin_token.txt").read_text().strip()
    assert code == 0 and "admin_token.txt" in out and new not in out, err
    assert new != comp.admin and service.is_admin(new) and not service.is_admin(comp.admin)
    assert service.signed_in(session) is None  # the organizer's browser session ended with the old token
    assert stat.S_IMODE((comp.dir / "secrets" / "admin_token.txt").stat().st_mode) == 0o600
    service.close()


@pytest.mark.parametrize("version, words", [
    (99, "newer than this kit's"), (0, "older than this kit's"),
    (1, "older than this kit's (5; version 2: submissions gained `diagnoses`"),
    (2, "older than this kit's (5; version 3: a new table `sign_ins`"),
    (3, "older than this kit's (5; version 4: participants gained `display_name`"),
    (4, "older than this kit's (5; version 5: a new table `upload_slots`")])  # the previous kit's
def test_another_schema_version_stops_with_what_to_do_and_changes_nothing(run_cli, tmp_path, version, words):
    comp = make_competition(tmp_path)
    db = database.connect(f"sqlite:///{comp.dir / 'competition.db'}")
    with db.session(write=True) as s, s.begin():
        s.execute(update(database.Meta).where(database.Meta.key == "schema_version").values(value=str(version)))
    db.dispose()
    before = (comp.dir / "competition.db").read_bytes()
    code, _, err = run_cli("serve", "--dir", comp.dir, "--port", "9")
    assert code == 2 and words in err and "nothing was changed" in err
    assert database.stored_version(database.connect(f"sqlite:///{comp.dir / 'competition.db'}")) == version
    assert (comp.dir / "competition.db").read_bytes() == before


def test_rescore_equals_stored_scores_exactly_and_reports_a_changed_one(run_cli, tmp_path):
    comp_info = make_competition(tmp_path)
    comp = Competition(comp_info.dir, clock=Clock())
    for i, (pub, priv) in enumerate([(0.1, 0.2), (0.05, 0.07)]):
        path = comp.paths.incoming / f"up{i}.part"
        path.write_bytes(offset_csv(comp.paths.root, pub, priv))
        comp.submit(comp.authenticate(comp_info.tokens["ann"]), path)
    code, out, _ = run_cli("competition", "rescore", "--dir", comp_info.dir)
    assert code == 0 and "2 identical to the stored scores, 0 different" in out
    with comp.db.session(write=True) as s, s.begin():
        s.execute(update(database.Submission).where(database.Submission.id == 2).values(private_rmse=0.07000000000000001))
    comp.close()
    code, out, _ = run_cli("competition", "rescore", "--dir", comp_info.dir)
    assert code == 1 and "submission 2: stored" in out and "1 different" in out


def test_export_writes_the_final_table_with_grades(run_cli, tmp_path):
    info = make_competition(tmp_path)
    comp = Competition(info.dir, clock=Clock())
    for name, private in (("ann", 0.03), ("bob", 0.1)):
        path = comp.paths.incoming / f"{name}.part"
        path.write_bytes(offset_csv(info.dir, 0.2, private))
        comp.submit(comp.authenticate(info.tokens[name]), path)
    comp.close()
    code, out, err = run_cli("competition", "export", "--dir", info.dir, "--csv", tmp_path / "final.csv")
    assert code == 0, err
    table = pd.read_csv(tmp_path / "final.csv")
    assert table["name"].tolist() == ["ann", "bob"] and table["rank"].tolist() == [1, 2]
    assert table["private_rmse"].tolist() == pytest.approx([0.03, 0.1], rel=1e-9)
    # ann is the class best below strong -> 10; bob: 3 + 5 * (0.14744 - 0.1) / (0.14744 - 0.03568)
    assert table["grade"].tolist() == pytest.approx([10.0, 3 + 5 * 0.04744 / 0.11176], rel=1e-9)


def test_inspect_file_refuses_ten_million_rows_reading_in_fixed_memory(tmp_path):
    path = tmp_path / "huge.csv"
    with path.open("wb") as fh:
        fh.write(b"id,a\n")
        for _ in range(10):
            fh.write(b"0,0\n" * 1_000_000)
    tracemalloc.start()
    facts = inspect_file(path, max_lines=16_386, max_line_bytes=440)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert facts.problem.startswith("more than 16,386 lines") and facts.size == path.stat().st_size
    assert peak < 20 * 2**20  # a few 1 MB chunks, not the 40 MB file
    one_line = tmp_path / "wide.csv"
    one_line.write_bytes(b"id" + b",0" * 5000 + b"\n")
    assert "a line of 10,002 bytes" in inspect_file(one_line, 100, 440).problem


def test_ties_share_a_rank_and_final_choice_follows_kaggle():
    rows = rank_rows([{"name": "c", "score": 0.2}, {"name": "a", "score": 0.1}, {"name": "b", "score": 0.1}])
    assert [(r["name"], r["rank"]) for r in rows] == [("a", 1), ("b", 1), ("c", 3)]
    subs = [SimpleNamespace(id=i, public_rmse=p, selected=s) for i, p, s in
            [(1, 0.3, False), (2, 0.1, False), (3, 0.2, False), (4, 0.1, False)]]
    assert [s.id for s in final_choice(subs, 2)] == [2, 4]  # best public, earlier first on a tie
    subs[0].selected = True
    assert [s.id for s in final_choice(subs, 2)] == [1]


def test_tokens_are_confirmed_with_a_constant_time_comparison(tmp_path, monkeypatch):
    import hmac

    from competition import tokens

    info = make_competition(tmp_path)
    comp = Competition(info.dir)
    compared, original = [], hmac.compare_digest
    monkeypatch.setattr(tokens.hmac, "compare_digest", lambda a, b: compared.append((a, b)) or original(a, b))
    assert comp.authenticate(info.tokens["bob"]).name == "bob"
    assert comp.is_admin(info.admin) and not comp.is_admin(info.tokens["bob"])
    comp.close()
    assert len(compared) == 3 and all(len(a) == len(b) == 64 for a, b in compared)  # sha256 hex digests
