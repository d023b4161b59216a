"""A training without --seed draws its own, so two students' honest runs of one command differ."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import write_set

from inpaint.cli import build_parser
from inpaint.cli.student import training_config


def config_of(*argv):
    args = build_parser().parse_args(["train", "--data", "DATA", "--run", "RUN", *map(str, argv)])
    return training_config(args)


def test_no_seed_draws_one_per_run_and_says_how_to_repeat_it(capsys, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    seeds = set()
    for _ in range(5):
        cfg = config_of()
        line = capsys.readouterr().out.strip()
        assert line == f"seed {cfg.seed} (drawn for this run and saved in its config.toml; --seed {cfg.seed} repeats it)"
        assert 1 <= cfg.seed < 1_000_000
        seeds.add(cfg.seed)
    assert len(seeds) >= 4  # five draws from a million: a repeat is a 1-in-100,000 event


@pytest.mark.parametrize("how", [("--seed", 7), ("--set", "seed=7"), ("--config", "FILE")])
def test_a_given_seed_is_kept_and_nothing_is_drawn(how, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    if how[0] == "--config":
        (tmp_path / "c.toml").write_text("seed = 7\n")
        how = ("--config", tmp_path / "c.toml")
    assert config_of(*how).seed == 7
    assert "drawn" not in capsys.readouterr().out


def test_a_config_file_without_a_seed_still_draws(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    (tmp_path / "c.toml").write_text("batch_size = 4\n")
    cfg = config_of("--config", tmp_path / "c.toml")
    assert cfg.batch_size == 4 and f"seed {cfg.seed} (drawn" in capsys.readouterr().out


def test_cluster_workers_keep_the_config_seed_so_they_agree(capsys, monkeypatch):
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}, '
                                    '"task": {"type": "worker", "index": 0}}')
    assert config_of().seed == 0 and capsys.readouterr().out == ""


@pytest.mark.slow
def test_a_run_folder_in_use_is_refused_before_a_seed_is_drawn_or_tensorflow_starts(tmp_path):
    """Issue 36: `inpaint run` into a used folder printed a fresh seed and started TensorFlow, then refused."""
    data = write_set(tmp_path / "data", n_train=4, n_test=1)
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)  # what a trained run folder holds
    script = ("import sys; from inpaint.cli import main; "
              f"code = main(['run', '--data', {str(data)!r}, '--run', {str(tmp_path / 'run')!r}, '--csv', 'P.csv']); "
              "print('exit', code, 'tensorflow' in sys.modules)")
    repo = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": repo}
    env.pop("TF_CONFIG", None)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.stdout.splitlines() == ["exit 2 False"], done.stdout + done.stderr
    assert "already holds a run; use --resume" in done.stderr and "seed" not in done.stdout
