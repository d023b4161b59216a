"""The config dataclass: presets, validation, TOML round trip, command-line overrides."""
import pytest

from inpaint import config
from inpaint.cli import build_parser
from inpaint.cli.shared import resolve_config
from inpaint.errors import ConfigError


def test_toml_round_trip_preserves_every_field(tmp_path):
    cfg = config.preset("lite").replace(image_size=(64, 32), gen_norm="instance", lambda_l1=50.0, flip=False)
    config.save_toml(cfg, tmp_path / "c.toml")
    assert config.load_toml(tmp_path / "c.toml") == cfg


def test_presets_differ_and_unknown_preset_is_an_error():
    lite, standard, large = (config.preset(n) for n in ("lite", "standard", "large"))
    assert lite.gen_base_filters < standard.gen_base_filters < large.gen_base_filters
    assert standard == config.Config(ema_decay=config.STANDARD_EMA_DECAY)  # the defaults, with the weight average
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
         "--set", "batch_size=2", "--set", "gen_norm=instance", "--epochs", "3", "--size", "32", "32"]
    )
    cfg = resolve_config(args)
    assert (cfg.lambda_l1, cfg.batch_size, cfg.gen_norm, cfg.epochs) == (10.0, 2, "instance", 3)
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
