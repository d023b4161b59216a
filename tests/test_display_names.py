"""Display names: the rules, generated names, the roster's columns, choosing a name through the API and
its refusals, a race for one name against a real server (SQLite and PostgreSQL), and the hand migration
of a schema-3 database that docs/hosting.md prints, run on both databases."""
import json
import re
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import Column, MetaData, Table, create_engine, insert  # noqa: E402

from competition import display_names as names  # noqa: E402
from competition.api import create_app  # noqa: E402
from competition.db import Meta, SCHEMA_VERSION  # noqa: E402
from competition.participants import RosterLine, read_roster  # noqa: E402
from competition.service import Competition  # noqa: E402
from competition.tokens import hash_token  # noqa: E402
from competition_fixtures import Clock, http, make_competition, noisy_csv, postgres, running_server  # noqa: E402,F401
from inpaint.errors import UserError  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
ZELDA = RosterLine("Zelda Quuxworth", "zelda.quuxworth@uni.example", "S7310042", "")


@pytest.mark.parametrize("name", ["abc", "Blue Fox", "night.owl_7", "x-9-y", "A" * 24])
def test_names_of_the_allowed_form_pass_and_come_back_tidied(name):
    assert names.check_form(f"  {name} ") == name


@pytest.mark.parametrize("name", ["ab", "A" * 25, "123", "blue--fox", "-fox", "fox!", "<b>x</b>", "Zoë", "ﬀox",
                                  "аnn", "organizer", "Admin 2", "reference: identity", "Staff-Room"])
def test_names_of_another_form_are_refused_with_the_rule(name):
    with pytest.raises(names.DisplayNameRefused, match="display name"):
        names.check_form(name)


def test_one_name_whatever_the_case_and_separators():
    assert names.name_key("Blue Fox") == names.name_key("blue-fox") == names.name_key("BLUE_FOX") == "bluefox"
    assert names.tidy("  Blue   Fox ") == "Blue Fox"


@pytest.mark.parametrize("chosen", ["Zelda", "zeldafan", "QUUXWORTH-7", "Quux Worth", "zelda.quuxworth",
                                    "s7310042", "Z Quuxworth"])
def test_a_chosen_name_may_not_hold_the_name_email_or_student_id(chosen):
    with pytest.raises(names.DisplayNameRefused, match="may not contain your name"):
        names.check_chosen(chosen, ZELDA.name, ZELDA.email, ZELDA.student_id)


def test_accents_and_short_words_of_the_name():
    assert names.reveals("zoe-runs", "Zoë Ångström")  # accents do not hide a name
    assert not names.reveals("lily-pad", "Li Na")  # words under 3 letters would refuse half of all names
    assert names.reveals("lina", "Li Na")  # the whole name still counts
    assert names.check_chosen("Night Owl 7", ZELDA.name, ZELDA.email, ZELDA.student_id) == "Night Owl 7"


def test_generated_names_are_the_same_for_one_competition_and_unrelated_to_the_name():
    first = names.generated_name("salt-a", 7, set(), "Zelda Quuxworth")
    assert names.generated_name("salt-a", 7, set(), "Somebody Else") == first  # the name plays no part
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d\d", first) and names.check_form(first) == first
    others = {names.generated_name(f"salt-{c}", 7, set(), "x") for c in "bcdefghij"}
    assert len(others | {first}) >= 8  # another competition, other names
    assert names.generated_name("salt-a", 7, {names.lookalike_key(first)}, "x") != first  # taken: the next candidate
    animal = first.split("-")[1]
    assert animal not in names.generated_name("salt-a", 7, set(), f"{animal.title()} Smith")  # never a part of the name


def test_roster_with_a_header_names_its_columns_and_refuses_repeats(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("display_name,Name,E-mail,student id\nswift-heron,Yorick B,y@uni.example,S2\n,Zelda Q,,S1\n")
    assert read_roster(roster) == [RosterLine("Yorick B", "y@uni.example", "S2", "swift-heron"),
                                   RosterLine("Zelda Q", "", "S1", "")]
    roster.write_text("Ada,ada@x\nAlan\n")  # no header: name[,email] as before
    assert read_roster(roster) == [RosterLine("Ada", "ada@x"), RosterLine("Alan")]
    for text, words in (("name,mail\nAda,a\n", "the columns are name"),
                        ("name,student_id\nAda,S1\nAlan,S1\n", "student ids appear twice: S1"),
                        ("name,display_name\nAda,Blue Fox\nAlan,blue-fox\n", "display names appear twice: bluefox"),
                        ("name,email\nAda,a,b\n", "row 1")):
        roster.write_text(text)
        with pytest.raises(UserError, match=words):
            read_roster(roster)


def test_ids_do_not_follow_the_roster_order_and_roster_names_are_kept(tmp_path):
    people = [(f"Person {chr(65 + i)}", "", "", f"given-{i}" if i == 3 else "") for i in range(26)]
    comp = make_competition(tmp_path, people=people)
    service = Competition(comp.dir)
    registered = service.participants()
    by_id = [p["name"] for p in sorted(registered, key=lambda p: p["id"])]
    assert by_id != [p[0] for p in people]  # 26 alphabetical lines: 1 chance in 26! to stay in order
    given = next(p for p in registered if p["name"] == "Person D")
    assert (given["display_name"], given["name_source"]) == ("given-3", "roster")
    assert {p["name_source"] for p in registered if p["name"] != "Person D"} == {"generated"}
    assert len({names.name_key(p["display_name"]) for p in registered}) == 26
    service.close()


@pytest.fixture
def api(tmp_path):
    comp = make_competition(tmp_path, people=[ZELDA, ("Yorick B", "y@uni.example", "", "swift-heron"),
                                              ("Xanthe V", "x@uni.example", "", "")],
                            deadline=datetime(2026, 12, 20, tzinfo=timezone.utc))
    app = create_app(comp.dir, clock=Clock())
    with TestClient(app) as client:
        yield comp, client


def choose(client, comp, who, name):
    return client.put("/api/me", json={"display_name": name}, headers=comp.auth(who))


def test_a_participant_chooses_a_name_until_their_first_accepted_upload(api):
    comp, client = api
    me = client.get("/api/me", headers=comp.auth(ZELDA.name)).json()
    assert me["name_editable"] is True and re.fullmatch(r"[a-z]+-[a-z]+-\d\d", me["name"])
    assert choose(client, comp, ZELDA.name, "Night Owl 7").json() == {"name": "Night Owl 7"}
    assert choose(client, comp, ZELDA.name, "Zelda Q").status_code == 400
    assert choose(client, comp, "Xanthe V", "night-owl-7").status_code == 409  # hers, ignoring case and separators
    assert choose(client, comp, "Xanthe V", "swift heron").status_code == 409  # the roster's is taken too
    assert choose(client, comp, "Yorick B", "Other Name").status_code == 403  # the roster gave his
    upload = {**comp.auth(ZELDA.name), "Content-Type": "text/csv"}
    assert client.post("/api/submissions", content=b"id,x\n0,1\n", headers=upload).json()["status"] == "rejected"
    assert choose(client, comp, ZELDA.name, "Night Owl 8").status_code == 200  # a rejected file shows no name
    assert client.post("/api/submissions", content=noisy_csv(comp.dir, 0), headers=upload).status_code == 201
    refused = choose(client, comp, ZELDA.name, "Night Owl 9")
    assert refused.status_code == 403 and "first accepted upload" in refused.json()["detail"]
    me = client.get("/api/me", headers=comp.auth(ZELDA.name)).json()
    assert (me["name"], me["name_editable"]) == ("Night Owl 8", False)
    board = client.get("/api/leaderboard", headers=comp.auth("Xanthe V")).json()["rows"]
    assert [r["name"] for r in board] == ["Night Owl 8"]
    assert client.put("/api/me", json={"display_name": "x" * 201}, headers=comp.auth(ZELDA.name)).status_code == 422


def test_the_organizer_replaces_any_name_and_the_participant_cannot_change_it_back(api, run_cli):
    comp, client = api
    xanthe = next(p for p in client.get("/api/admin/participants", headers=comp.admin_auth).json()
                  if p["name"] == "Xanthe V")
    code, out, err = run_cli("competition", "participants", "--dir", comp.dir, "--display-name", str(xanthe["id"]),
                             "Quiet Otter")
    assert code == 0 and "'Quiet Otter'" in out and "Quiet Otter" in out, err
    assert client.get("/api/me", headers=comp.auth("Xanthe V")).json()["name"] == "Quiet Otter"
    assert choose(client, comp, "Xanthe V", "Loud Otter").status_code == 403
    code, _, err = run_cli("competition", "participants", "--dir", comp.dir, "--display-name", str(xanthe["id"]),
                           "swift-heron")
    assert code == 2 and "taken" in err


@pytest.mark.slow
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_ten_participants_asking_for_one_name_at_once_get_it_once(tmp_path, request, database):
    db_url = request.getfixturevalue("postgres")(f"race_{tmp_path.name[-20:].lower()}") if database == "postgresql" \
        else None
    people = [(f"Student {chr(65 + i)}", "", "", "") for i in range(10)]
    comp = make_competition(tmp_path, people=people, db_url=db_url)
    with running_server(comp.dir, db_url=db_url) as server:
        start, answers = threading.Barrier(10), {}

        def ask(who):
            start.wait()
            answers[who] = http("PUT", f"{server.url}/api/me", comp.tokens[who], json.dumps(
                {"display_name": "The One"}).encode(), "application/json")

        threads = [threading.Thread(target=ask, args=(p[0],)) for p in people]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        statuses = sorted(status for status, _ in answers.values())
        assert statuses == [200] + [409] * 9, answers
        named = [p for p in people if http("GET", f"{server.url}/api/me", comp.tokens[p[0]])[1]["name"] == "The One"]
        assert len(named) == 1


def schema_3_database(url: str, admin_token: str, people: list[str]) -> None:
    """A database as the kit with schema version 3 made it: participants without the four new columns
    (and, as schema 4 had them, findings and diagnoses as text, no judgements or copy flags)."""
    from test_stored_judgements import schema_4_metadata

    new = {"student_id", "display_name", "display_key", "name_source"}
    old = MetaData()
    for table in schema_4_metadata().sorted_tables:
        Table(table.name, old, *[Column(c.name, c.type, *[f._copy() for f in c.foreign_keys], primary_key=c.primary_key,
                                        nullable=c.nullable, index=c.index, unique=c.unique)
                                 for c in table.columns if not (table.name == "participants" and c.name in new)])
    engine = create_engine(url)
    old.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(old.tables["meta"]), [{"key": "schema_version", "value": "3"},
                                                        {"key": "admin_token_hash", "value": hash_token(admin_token)}])
        connection.execute(insert(old.tables["participants"]), [
            {"name": name, "email": f"{name.split()[0].lower()}@uni.example", "token_hash": hash_token(f"token-{name}"),
             "created": datetime(2026, 11, 1, tzinfo=timezone.utc)} for name in people])
    engine.dispose()


def documented_migration(since: int = 3) -> list[str]:
    """The SQL statements of docs/hosting.md's upgrade blocks, in order, from schema `since` on."""
    text = (REPO / "docs" / "hosting.md").read_text()
    section = text[text.index("### Upgrading a running competition"):]
    blocks = re.findall(r"From version (\d+) to \d+.*?```sql\n(.*?)```", section, re.S)
    return [statement.strip() for version, block in blocks if int(version) >= since
            for statement in block.split(";") if statement.strip()]


@pytest.mark.slow
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_hand_migration_in_hosting_md_turns_a_schema_3_database_into_a_working_one(tmp_path, request, database):
    comp = make_competition(tmp_path, people=[])
    if database == "sqlite":
        (comp.dir / "competition.db").unlink()
        url = f"sqlite:///{comp.dir / 'competition.db'}"
    else:
        url = request.getfixturevalue("postgres")(f"migrate_{tmp_path.name[-20:].lower()}")
    schema_3_database(url, comp.admin, ["Zelda Quuxworth", "Yorick Blennerhassett"])
    with pytest.raises(UserError, match="version 4: participants gained `display_name`.*hosting.md"):
        Competition(comp.dir, url)
    engine = create_engine(url)
    with engine.begin() as connection:
        for statement in documented_migration():
            connection.exec_driver_sql(statement)
    engine.dispose()
    service = Competition(comp.dir, url)
    people = {p["name"]: p for p in service.participants()}
    assert {p["display_name"] for p in people.values()} == {f"participant-{p['id']}" for p in people.values()}
    assert {p["name_source"] for p in people.values()} == {"generated"} and SCHEMA_VERSION == 5
    zelda = service.authenticate("token-Zelda Quuxworth")
    assert service.choose_display_name(zelda, "Night Owl 7") == "Night Owl 7"
    slot = service.reserve_upload(zelda)  # the version-5 table, as the SQL made it
    assert service.uploads_in_flight(zelda) == 1
    service.release_upload(slot)
    assert service.uploads_in_flight(zelda) == 0
    yorick = service.authenticate("token-Yorick Blennerhassett")
    with pytest.raises(names.DisplayNameTaken):
        service.choose_display_name(yorick, "night_owl_7")  # the migrated unique index holds
    with service.db.session() as s:
        assert s.get(Meta, "schema_version").value == "5"
    service.close()


def test_a_name_taken_while_a_roster_is_added_adds_nothing_and_leaves_no_tokens_file(tmp_path, monkeypatch):
    from competition.db import open_database
    from competition.participants import add_participants

    comp = make_competition(tmp_path, people=[("Yorick B", "", "", "swift-heron")])
    before = sorted((comp.dir / "secrets").glob("tokens-*.csv"))
    # as if a participant had chosen the generated name between the check and the insert
    monkeypatch.setattr(names, "generated_name", lambda *args, **kwargs: "swift-heron")
    db = open_database(f"sqlite:///{comp.dir / 'competition.db'}")
    with pytest.raises(UserError, match="registered by someone else meanwhile; nothing was added"):
        add_participants(db, comp.dir, [ZELDA])
    db.dispose()
    assert sorted((comp.dir / "secrets").glob("tokens-*.csv")) == before
    service = Competition(comp.dir)
    assert [p["name"] for p in service.participants()] == ["Yorick B"]
    service.close()
