"""Display names that pass for someone else (issue 34, item 4): another participant's full name, surname,
first name with initial, e-mail or student id; look-alike spellings of a name taken; words of the staff
or the reference rows anywhere in the name. The rule is tried on a roster of 300 real-looking names
generated here, where it must refuse every identifying part and few ordinary nicknames; the issue's own
attempts go through the API."""
import random

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from competition import display_names as names  # noqa: E402
from competition.api import create_app  # noqa: E402
from competition.participants import everyones_parts  # noqa: E402
from competition_fixtures import make_competition, noisy_csv  # noqa: E402

FIRST = """Aaliyah Abdul Ada Adebayo Aiko Alejandro Ali Amara Amelia Ana Andrei Anh Anika Arjun Astrid Ayesha Beatriz
Bilal Bjorn Camila Carlos Chen Chiara Chloe Chidi Dalia Daniel Dmitri Elif Elena Emeka Emma Esther Farah Fatima Felix
Freya Gabriel Giulia Hana Hassan Hiroshi Ibrahim Ines Ingrid Isaac Ivan Jakub Jamal Javier Jia Jonas Jose Julia Kai
Kamala Karim Kavya Kenji Khadija Kofi Lars Layla Leila Liam Lina Lucas Luis Maya Mateo Mei Mohammed Nadia Naveen Nia
Noah Olga Omar Oscar Priya Rafael Rahul Rania Ravi Rosa Sakura Samir Sara Sofia Sven Tariq Thandiwe Tomas Uma Valentina
Wei Xin Yara Yusuf Zara Zelda Zoltan""".split()
LAST = """Abbott Adeyemi Ahmed Alvarez Andersen Bailey Banerjee Becker Bell Bianchi Brown Campbell Chen Cho Clarke Cohen
Costa Cruz Davies Dubois Dunn Edwards Eriksson Evans Fernandez Fischer Fox Garcia Gonzalez Gupta Hall Hansen Harris
Hoffmann Hughes Ibrahim Ito Jackson Jansen Johansson Jones Kaur Khan Kim King Kowalski Kumar Lee Lewis Li Lopez Martin
Martinez Meyer Miller Moreau Murphy Nakamura Nguyen Novak Okafor Olsen Park Patel Perez Petrov Popescu Quuxworth Rao
Reyes Rossi Ruiz Sato Schmidt Shah Silva Singh Smith Sokolov Suzuki Tanaka Taylor Thomas Tran Wagner Walker Wang Weber
White Williams Wilson Wong Wu Yamamoto Yilmaz Young Zhang Blennerhassett Crane Finch Wolf Moon Rose Day Roy Ng Cox Ford
Lane""".split()
# Names students give themselves on a course board (none of them anyone's name).
NICKNAMES = """night-owl pixel-pusher deep-learner mouth-master gan-slinger inpaint-wizard dropout-king batchnorm-fan
relu-rider the-overfitters neural-ninja loss-hunter moon-walker rosebud dayglow sleepy-panda holiday-hacker royal-tensor
foxtrot echo-chamber anchor-man birthday-bot gradient-surfer adam-optimizer lazy-sunday coffee-addict tensor-flowers
kernel-panic segfault null-pointer stack-overflow byte-me bit-flipper cache-miss race-condition deadlock heap-sort
quick-sort merge-conflict git-pusher code-monkey bug-hunter syntax-error lambda-lady curry-house pasta-coder teatime
chai-latte matcha-mind ramen-lord sushi-roll taco-tuesday pizza-party bagel-boss waffle-iron pancake-stack
mountain-goat river-otter ocean-wave desert-rose forest-elf arctic-fox sunny-side starlight nebula quasar pulsar
comet-tail meteor galaxy-brain cosmic-ray photon-fan quantum-leap atom-smasher lab-rat petri-dish beaker violin-solo
jazz-hands drum-machine bass-drop synth-wave lofi-beats vinyl-junkie guitar-hero piano-man chess-knight rook-takes
pawn-storm checkmate go-stone poker-face dice-roller card-shark puzzle-box maze-runner silver-bullet golden-hour
iron-will copper-top steel-nerves glass-cannon paper-tiger stone-cold wood-elf blue-whale red-panda green-tea
yellow-sub purple-haze orange-crush pink-floyd black-swan white-rabbit mango-tango kiwi-bird lime-light cherry-bomb
peach-fuzz plum-job berry-good melon-collie grape-ape lemon-drop""".split()


def roster(n: int = 300, seed: int = 0) -> list[tuple[str, str, str]]:
    """n distinct (name, e-mail, student id) from the lists above: 108 x 114 names, so a class's surnames repeat."""
    rng, pairs = random.Random(seed), set()
    while len(pairs) < n:
        pairs.add((rng.choice(FIRST), rng.choice(LAST)))
    return [(f"{f} {s}", f"{f.lower()}.{s.lower()}@uni.example", f"S{7310000 + i}") for i, (f, s) in enumerate(sorted(pairs))]


class Person:
    def __init__(self, name, email, student_id):
        self.name, self.email, self.student_id = name, email, student_id


def refused_share(candidates: list[str], parts: frozenset[str]) -> float:
    keys = [names.lookalike_key(c) for c in candidates]
    return sum(any(p in key for p in parts) for key in keys) / len(keys)


def test_every_identifying_part_of_300_classmates_is_refused_in_any_spelling():
    people = roster()
    chooser = ("Night Owl", "night.owl@uni.example", "S7399999")
    others = everyones_parts(Person(*p) for p in people)  # the chooser is not on the roster
    for index in range(0, len(people), 7):  # 43 people, each against everyone else's parts
        name, email, student_id = people[index]
        first, surname = name.split()
        attempts = [name, f"{name}-fan", email.split("@")[0], student_id, f"{first} {surname[0]}",
                    name.replace("o", "0").replace("e", "3").replace("i", "1"), f"{student_id.lower()}x"]
        if len(surname) >= names.MIN_OTHERS_PART:
            attempts += [surname, f"x-{surname.upper()}", surname.replace("a", "4").replace("s", "5").replace("l", "1")]
        for attempt in attempts:
            attempt = attempt.replace(".", "-")[:24]
            with pytest.raises(names.DisplayNameRefused, match="another participant"):
                names.check_chosen(attempt, *chooser, others=others)


def test_the_shortest_part_that_refuses_is_four_characters_measured_on_the_roster():
    """3 characters would refuse 'holiday', 'foxtrot', 'echo', 'royal' for the Days, Foxes, Chos and Roys of a
    class; 5 would let the Wangs, Chens, Parks and Khans through. At 4, on this roster: 6 of 124 nicknames
    (King, Rose, Walker, White, Hall after folding l/i), and only names holding a classmate's surname."""
    people = [Person(*p) for p in roster()]
    generated = [f"{a}-{b}" for a in names.ADJECTIVES for b in names.ANIMALS]
    shares = {}
    for shortest in (3, 4, 5):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(names, "MIN_OTHERS_PART", shortest)
            parts = everyones_parts(people)
            shares[shortest] = refused_share(NICKNAMES, parts), refused_share(generated, parts)
    assert names.MIN_OTHERS_PART == 4
    assert shares[4][0] <= 0.06 and shares[4][1] <= 0.07, shares
    assert shares[3][0] >= 2 * shares[4][0], shares  # the step that decides: 3 refuses twice as many nicknames
    parts = everyones_parts(people)
    assert {"wang", "chen", "khan", "park"} <= parts and not {"iee", "fox", "day"} & parts


@pytest.mark.parametrize("name", ["0rganizer", "Organlzer", "Admln", "the organizer", "course staff", "TA Grader",
                                  "referenc3", "strong baseline", "my-teacher", "1nstruct0r", "st4ff-room"])
def test_words_of_the_staff_and_the_reference_rows_are_refused_anywhere_and_in_any_spelling(name):
    with pytest.raises(names.DisplayNameRefused, match="kept for the staff"):
        names.check_form(name)


def test_every_generated_name_passes_the_form_rules():
    for adjective in names.ADJECTIVES:
        for animal in names.ANIMALS:
            for number in (10, 37, 57, 74, 99):
                names.check_form(f"{adjective}-{animal}-{number}")


def test_the_issues_attempts_through_the_api(tmp_path):
    people = [("Zelda Quuxworth", "zelda.q@uni.example", "S7310042", ""),
              ("Yorick Blennerhassett", "yorick.b@uni.example", "S7310043", ""),
              ("Carl Dunn", "carl.dunn@uni.example", "S7310044", "swift-heron"),
              ("Bob Baker", "bob.baker@uni.example", "S7310045", "")]  # a generated name: his to change
    comp = make_competition(tmp_path, people=people)
    with TestClient(create_app(comp.dir)) as client:
        def choose(name: str):
            return client.put("/api/me", json={"display_name": name}, headers=comp.auth("Bob Baker"))

        for name in ("Zelda Quuxworth", "Quuxworth", "Yorick B", "Blennerhassett", "S7310042", "zelda-q",
                     "Quuxw0rth", "Blenn3rhassett", "5731OO42"):
            answer = choose(name)
            assert answer.status_code == 400 and "another participant" in answer.json()["detail"], (name, answer.text)
        for name in ("sw1ft-heron", "swift-her0n", "swlft-heron", "SWlFT HER0N"):
            answer = choose(name)
            assert answer.status_code == 409 and "looks like 'swift-heron'" in answer.json()["detail"], (name, answer.text)
        for name in ("0rganizer", "Admln", "strong baseline"):
            assert choose(name).status_code == 400, name
        assert choose("Zelda fan").status_code == 200  # a first name alone is anyone's
        assert choose("quiet-otter").json() == {"name": "quiet-otter"}
        upload = client.post("/api/submissions", content=noisy_csv(comp.dir, 1),
                             headers={**comp.auth("Bob Baker"), "Content-Type": "text/csv"})
        assert upload.status_code == 201
        board = [row["name"] for row in client.get("/api/leaderboard", headers=comp.auth("Bob Baker")).json()["rows"]]
        assert board == ["quiet-otter"]
