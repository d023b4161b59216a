"""The config dataclass: presets, validation, TOML round trip, command-line overrides."""
import pytest

from inpaint import config
from inpaint.cli import build_parser
from inpaint.cli.shared import resolve_config
from inpaint.errors import ConfigError


def test_toml_round_trip_preserves_every_field(tmp_path):
    cfg = config.preset("lite").replace(image_size=(64, 32), gen_norm="none", lambda_l1=50.0, flip=False)
    config.save_toml(cfg, tmp_path / "c.toml")
    assert config.load_toml(tmp_path / "c.toml") == cfg


def test_presets_differ_and_unknown_preset_is_an_error():
    lite, standard, large = (config.preset(n) for n in ("lite", "standard", "large"))
    assert lite.gen_base_filters < standard.gen_base_filters < large.gen_base_filters
    # the defaults, with the weight average, predicting from the mean of the last checkpoints
    assert standard == config.Config(ema_decay=config.STANDARD_EMA_DECAY, average_last=config.PREDICT_FROM_LAST)
    with pytest.raises(ConfigError, match="unknown preset 'huge'"):
        config.preset("huge")


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(image_size=(100, 128)), "divisible by 2\\*\\*gen_depth = 128"),
        (dict(adversarial="wgan"), "adversarial must be one of"),
        (dict(gen_norm="layer"), "norms must be one of"),
        (dict(val_fraction=0.0), "val_fraction"),
        (dict(batch_size=0), "batch_size"),
    ],
)
def test_invalid_values_are_config_errors(change, message):
    with pytest.raises(ConfigError, match=message):
        config.Config().replace(**change)


def test_unknown_key_and_bad_toml_are_errors(tmp_path):
    (tmp_path / "bad.toml").write_text("lambda_l1 = 10\nlamda_l2 = 3\n")
    with pytest.raises(ConfigError, match="unknown keys lamda_l2"):
        config.load_toml(tmp_path / "bad.toml")
    (tmp_path / "broken.toml").write_text("lambda_l1 = = 10\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.load_toml(tmp_path / "broken.toml")


def test_command_line_overrides_config_file_overrides_preset(tmp_path):
    (tmp_path / "c.toml").write_text("lambda_l1 = 10.0\nbatch_size = 4\n")
    args = build_parser().parse_args(
        ["train", "--data", "d", "--run", "r", "--preset", "lite", "--config", str(tmp_path / "c.toml"),
         "--set", "batch_size=2", "--set", "adversarial=hinge", "--epochs", "3", "--size", "32", "32"]
    )
    cfg = resolve_config(args)
    assert (cfg.lambda_l1, cfg.batch_size, cfg.adversarial, cfg.epochs) == (10.0, 2, "hinge", 3)
    assert cfg.gen_base_filters == config.PRESETS["lite"]["gen_base_filters"]
    assert cfg.image_size == (32, 32)


def test_minutes_alone_means_train_until_time_is_up():
    args = build_parser().parse_args(["train", "--data", "d", "--run", "r", "--minutes", "2"])
    cfg = resolve_config(args)
    assert cfg.minutes == 2 and cfg.epochs >= 10**6


def test_the_standard_preset_averages_weights_and_a_run_config_from_before_loads_as_trained(tmp_path):
    assert config.preset("standard").ema_decay == config.preset("large").ema_decay == config.STANDARD_EMA_DECAY > 0
    assert config.preset("lite").ema_decay == 0.0
    # A run folder written before ema_decay existed has no such key: it trained the raw generator.
    older = [line for line in config.to_toml(config.preset("standard")).splitlines() if not line.startswith("ema_decay")]
    (tmp_path / "config.toml").write_text("\n".join(older) + "\n")
    assert config.load_toml(tmp_path / "config.toml").ema_decay == 0.0


@pytest.mark.parametrize("values, message", [
    ({"batch_size": "eight"}, "batch_size must be a whole number \\(int\\), got 'eight'"),
    ({"epochs": 2.5}, "epochs must be a whole number"),
    ({"ema_decay": "0.9"}, "ema_decay must be a number \\(float\\)"),
    ({"composite": "yes"}, "composite must be true or false"),
    ({"image_size": [64, 64, 1]}, "image_size must be two whole numbers"),
])
def test_a_value_of_the_wrong_type_is_named_with_its_key_and_type(values, message):
    """`batch_size = "eight"` used to fail inside validate() with "'>=' not supported between 'str' and 'int'"."""
    with pytest.raises(ConfigError, match=message):
        config.from_dict(values)


def test_whole_numbers_are_accepted_for_float_keys():
    cfg = config.from_dict({"lambda_l1": 50, "image_size": [64, 64], "gen_depth": 6})
    assert cfg.lambda_l1 == 50.0 and isinstance(cfg.lambda_l1, float) and cfg.image_size == (64, 64)


# Every key of the last config.toml before the removal (commit 1943bc8) that the config no longer has.
OLD_KEYS_AT_OFF = """mask_input = false
prefill = "none"
disc_spectral_norm_first = false
d_augment = ""
d_augment_p = 1.0
d_augment_target = 0.0
d_augment_adapt_pairs = 20000
r1_gamma = 0.0
extra_boxes = 0.0
box_jitter = 0.25
geometric_jitter = 0.0
lr_decay = "none"
"""


def test_a_run_config_from_before_the_removed_options_loads_as_trained(tmp_path):
    (tmp_path / "config.toml").write_text(config.to_toml(config.preset("standard")) + OLD_KEYS_AT_OFF)
    assert config.load_toml(tmp_path / "config.toml") == config.preset("standard")
    assert set(config.REMOVED) == {line.split(" = ")[0] for line in OLD_KEYS_AT_OFF.splitlines()}


@pytest.mark.parametrize("line, key", [('prefill = "telea"', "prefill"), ("r1_gamma = 1.0", "r1_gamma"),
                                       ('d_augment = "translation"', "d_augment"), ("mask_input = true", "mask_input"),
                                       ('lr_decay = "cosine"', "lr_decay"), ("box_jitter = 0.1", "box_jitter")])
def test_a_removed_option_switched_on_is_refused_naming_the_record(tmp_path, line, key):
    (tmp_path / "config.toml").write_text(line + "\n")
    with pytest.raises(ConfigError) as err:
        config.load_toml(tmp_path / "config.toml")
    assert str(err.value).startswith(f"config: {key} was removed")
    assert 'BENCHMARKS.md, "Removed training options"' in str(err.value) and "\n" not in str(err.value)


def test_instance_norm_is_refused_naming_the_record():
    for key in ("gen_norm", "disc_norm"):
        with pytest.raises(ConfigError, match=f'{key} = "instance" was removed .*Removed training options'):
            config.from_dict({key: "instance"})


def test_set_of_a_removed_option_is_silent_when_off_and_one_line_with_exit_2_when_on(tiny_set, tmp_path, run_cli):
    args = build_parser().parse_args(["train", "--data", "d", "--run", "r", "--set", "prefill=none",
                                      "--set", "r1_gamma=0.0"])
    cfg = resolve_config(args)
    assert cfg == config.preset("standard").replace(seed=cfg.seed)
    code, _, err = run_cli("train", "--data", tiny_set, "--run", tmp_path / "run", "--preset", "lite",
                           "--set", "prefill=telea", "--steps", "1")
    assert code == 2
    assert err.strip().endswith('--set prefill=telea: prefill was removed after 0.1.0 (it lost on every set measured: '
                                'BENCHMARKS.md, "Removed training options")')
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "run").exists()
