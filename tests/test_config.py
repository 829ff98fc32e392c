"""TrainConfig: frozen groups, every choice and range checked at construction, profiles."""
from __future__ import annotations

import dataclasses
import json

import pytest

from selib.errors import ConfigError
from selib.training.config import CHOICES, DataConfig, ModelConfig, TrainConfig, parse_assignment
from selib.training.profiles import PROFILES, resolve_profile


def test_seed_profile_is_the_report_recipe():
    seed = PROFILES["seed"]
    assert (seed.data.image_size, seed.data.color, seed.data.test_size, seed.data.val_size) == (473, "grayscale", 0.2, 0.25)
    o = seed.optim
    assert (o.optimizer, o.learning_rate, o.beta_1, o.beta_2, o.epsilon, o.epochs, o.batch_size) == \
        ("adam", 1e-3, 0.9, 0.999, 1e-8, 20, 32)
    assert seed.model.depth == (2, 1, 1, 2) and seed.model.style == "preact" and seed.model.ratio == 16
    assert seed.model.augment is None and not seed.eval.tta


def test_auto_profile_follows_the_gpu(monkeypatch):
    import selib.training.profiles as profiles

    monkeypatch.setenv("SELIB_PROFILE", "auto")
    monkeypatch.setattr(profiles, "gpu_available", lambda: False)
    assert resolve_profile().name == "cpu"
    monkeypatch.setattr(profiles, "gpu_available", lambda: True)
    assert resolve_profile().name == "gpu"
    with pytest.raises(ConfigError, match="unknown profile 'turbo'; choose one of: auto, seed"):
        resolve_profile("turbo")


BAD = [  # (setting, value, words the one-line message must contain)
    ("optimizer", "lion", "unknown optimizer 'lion'; choose one of: adam, adamw, sgd"),
    ("schedule", "step", "unknown schedule 'step'; choose one of: constant, cosine, onecycle"),
    ("color", "cmyk", "unknown color 'cmyk'; choose one of: grayscale, rgb"),
    ("fit", "stretch", "unknown fit 'stretch'; choose one of: squash, pad, crop"),
    ("architecture", "vgg", "unknown architecture 'vgg'"),
    ("style", "v2", "unknown style 'v2'; choose one of: v1, preact"),
    ("se_placement", "middle", "unknown se_placement 'middle'"),
    ("se_gate", "softmax", "unknown se_gate 'softmax'"),
    ("se_squeeze", "median", "unknown se_squeeze 'median'"),
    ("augment", "extreme", "unknown augment 'extreme'; choose one of: null, light, medium, strong"),
    ("precision", "fp8", "unknown precision 'fp8'"),
    ("epochs", 0, "epochs must be an integer ≥ 1"),
    ("epochs", "abc", "epochs must be an integer ≥ 1"),
    ("epochs", 2.5, "epochs must be an integer"),
    ("ratio", 0, "ratio must be an integer ≥ 1 or null"),
    ("image_size", 4, "image_size must be an integer ≥ 8"),
    ("image_size", "abc", "image_size must be an integer ≥ 8"),
    ("batch_size", 0, "batch_size must be an integer ≥ 1"),
    ("learning_rate", 0, "learning_rate must be a number > 0"),
    ("test_size", 1.0, "test_size must be a number > 0 and < 1"),
    ("label_smoothing", -0.1, "label_smoothing must be a number ≥ 0"),
    ("use_ema", "yes", "use_ema must be true or false"),
    ("ema_mode", "swap", "unknown ema_mode 'swap'; choose one of: evaluate, overwrite"),
    ("depth", [2, 2, 2], "depth [2, 2, 2] and filters ["),  # filters come from the profile
    ("depth", [2, 2, 2], "must have the same length (one entry per stage)"),
]


@pytest.mark.parametrize("key,value,message", BAD, ids=[f"{k}={v}" for k, v, _ in BAD])
def test_bad_values_are_one_line_errors(key, value, message):
    with pytest.raises(ConfigError) as err:
        PROFILES["cpu"].replace(**{key: value})
    text = str(err.value)
    assert message in text and "\n" not in text


def test_choice_lists_are_the_documented_ones():
    assert CHOICES["optimizer"] == ("adam", "adamw", "sgd")
    for name in ("optimizer", "schedule", "color", "fit", "architecture", "style", "se_placement",
                 "se_gate", "se_squeeze", "augment", "precision"):
        assert name in TrainConfig.fields()


def test_frozen_and_replace_routes_plain_names():
    cfg = PROFILES["cpu"]
    epochs = cfg.optim.epochs
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.optim.epochs = 3
    new = cfg.replace(epochs=3, ratio=4, image_size=96, seed=7, tta=False)
    assert (new.optim.epochs, new.model.ratio, new.data.image_size, new.runtime.seed, new.eval.tta) == \
        (3, 4, 96, 7, False)
    assert cfg.optim.epochs == epochs != 3             # the original is untouched
    assert new.get("ratio") == 4
    with pytest.raises(ConfigError, match="unknown setting"):
        cfg.replace(epoch=3)


def test_values_are_normalised():
    m = ModelConfig(depth=[1, 2], filters=[8, 16], width=1)
    assert m.depth == (1, 2) and isinstance(m.width, float)
    assert DataConfig(image_size=64.0).image_size == 64


def test_json_round_trip_and_differences(tmp_path):
    cfg = PROFILES["cpu"].replace(depth=(1, 2), filters=(8, 16), devices=("/cpu:0", "/cpu:1"))
    cfg.save(tmp_path / "c.json")
    back = TrainConfig.load(tmp_path / "c.json")
    assert back == cfg
    assert set(json.loads((tmp_path / "c.json").read_text())) == {"name", "notes", "data", "model",
                                                                  "optim", "runtime", "eval"}
    assert cfg.differences(cfg.replace(epochs=20)) == [f"epochs {cfg.optim.epochs} -> 20"]
    assert cfg.differences(cfg.replace(epochs=20, ratio=3)) == [f"ratio {cfg.model.ratio} -> 3",
                                                                f"epochs {cfg.optim.epochs} -> 20"]
    with pytest.raises(ConfigError, match="unknown optim setting"):
        TrainConfig.from_dict({**cfg.to_dict(), "optim": {"epoch": 3}})


def test_parse_assignment():
    assert parse_assignment("ratio=8") == ("ratio", 8)
    assert parse_assignment("ratio=null") == ("ratio", None)
    assert parse_assignment("depth=[1,1]") == ("depth", [1, 1])
    assert parse_assignment("optimizer=sgd") == ("optimizer", "sgd")
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_assignment("ratio")
    with pytest.raises(ConfigError, match="unknown setting 'ration'"):
        parse_assignment("ration=8")


def test_seed_profile_honours_model_overrides():
    from selib.models.seed import seed_model
    from selib.training.trainer import build_model

    seed = PROFILES["seed"]
    assert build_model(seed, 4).count_params() == seed_model().count_params() == 9_777_472
    assert build_model(seed.replace(ratio=8), 4).count_params() > 9_777_472   # r applies now
    assert build_model(seed.replace(attention=None), 4).count_params() < 9_777_472


def test_se_stages_and_no_squeeze_are_settings():
    cfg = PROFILES["ci"].replace(se_stages=[3], se_squeeze="none")
    assert cfg.get("se_stages") == (3,) and TrainConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match=r"se_stages \[4\] must name stages of this network: \[2, 3\]"):
        PROFILES["ci"].replace(se_stages=[4])
    with pytest.raises(ConfigError, match="se_stages must be a list of integers ≥ 2 or null"):
        PROFILES["ci"].replace(se_stages="all")
    with pytest.raises(ConfigError, match="se_resnet only"):
        PROFILES["ci"].replace(architecture="se_inception", se_stages=[2])
    from selib.layers.squeeze_excite import se_layers
    from selib.training.trainer import build_model

    model = build_model(cfg, 4)
    assert [(layer.name, layer.squeeze) for layer in se_layers(model)] == [("conv3_block1_se", "none")]


def test_as_recorded_fills_only_what_an_old_record_lacks():
    """A record that has ``ema_mode`` (or is no config at all) is returned as it is."""
    from selib.training.config import as_recorded

    today = TrainConfig().replace(use_ema=True, ema_mode="evaluate").to_dict()
    assert as_recorded(today) == today
    old = {**today, "optim": {k: v for k, v in today["optim"].items() if k != "ema_mode"}}
    assert as_recorded(old)["optim"]["ema_mode"] == "overwrite" and "ema_mode" not in old["optim"]
    assert TrainConfig.from_dict(as_recorded(old)).differences(TrainConfig.from_dict(today)) == [
        "ema_mode 'overwrite' -> 'evaluate'"]
    for junk in ([], "x", {"optim": None}, {}):
        assert as_recorded(junk) == junk
