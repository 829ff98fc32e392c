"""TrainConfig: frozen groups, every choice and range checked at construction, profiles."""
from __future__ import annotations

import dataclasses
import json

import pytest

from selib.errors import ConfigError
from selib.training.config import CHOICES, DataConfig, ModelConfig, TrainConfig, parse_assignment
from selib.training.profiles import PROFILES, resolve_profile


def test_report_profile_is_the_report_recipe():
    seed = PROFILES["report"]
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
    with pytest.raises(ConfigError, match="unknown profile 'turbo'; choose one of: auto, report"):
        resolve_profile("turbo")


def test_the_former_profile_name_is_refused_with_a_hint(monkeypatch):
    with pytest.raises(ConfigError, match="^profile 'seed' was renamed to 'report'"):
        resolve_profile("seed")
    monkeypatch.setenv("SELIB_PROFILE", "seed")
    with pytest.raises(ConfigError, match="renamed to 'report'"):
        resolve_profile()


def test_a_recorded_config_of_the_former_profile_name_reads_as_report(tmp_path):
    old = {**PROFILES["report"].to_dict(), "name": "seed"}
    (tmp_path / "config.json").write_text(json.dumps(old))
    assert TrainConfig.load(tmp_path / "config.json") == PROFILES["report"]


BAD = [  # (setting, value, words the one-line message must contain)
    ("optimizer", "lion", "unknown optimizer 'lion'; choose one of: adam, adamw, sgd"),
    ("schedule", "step", "unknown schedule 'step'; choose one of: constant, cosine, onecycle"),
    ("color", "cmyk", "unknown color 'cmyk'; choose one of: grayscale, rgb"),
    ("fit", "stretch", "unknown fit 'stretch'; choose one of: squash, pad, crop"),
    ("architecture", "vgg", "unknown architecture 'vgg'"),
    ("style", "v2", "unknown style 'v2'; choose one of: v1, preact"),
    ("se_placement", "middle", "unknown se_placement 'middle'"),
    ("attn", "cbam", "unknown attn 'cbam'; choose one of: se, eca, null"),
    ("attn_kwargs.gate", "softmax", "attn_kwargs.gate of attn se must be one of: sigmoid, relu, tanh"),
    ("attn_kwargs.squeeze", "median", "attn_kwargs.squeeze of attn se must be one of: avg, max, none"),
    ("attn_kwargs.min_units", 0, "attn_kwargs.min_units of attn se must be an integer ≥ 1"),
    ("attn_kwargs.kernel_size", 3, "unknown attn_kwargs.kernel_size for attn se; its options: min_units,"),
    ("attn_kwargs", [8], "attn_kwargs must be a JSON object of the attention's options"),
    ("augment", "extreme", "unknown augment 'extreme'; choose one of: null, light, medium, strong"),
    ("precision", "fp8", "unknown precision 'fp8'"),
    ("epochs", 0, "epochs must be an integer ≥ 1"),
    ("epochs", "abc", "epochs must be an integer ≥ 1"),
    ("epochs", 2.5, "epochs must be an integer"),
    ("ratio", 0, "ratio must be an integer ≥ 1"),
    ("ratio", None, "ratio must be an integer ≥ 1, got None; attn=null builds the network without SE"),
    ("image_size", 4, "image_size must be an integer ≥ 8"),
    ("image_size", "abc", "image_size must be an integer ≥ 8"),
    ("batch_size", 0, "batch_size must be an integer ≥ 1"),
    ("learning_rate", 0, "learning_rate must be a finite number > 0"),
    ("test_size", 1.0, "test_size must be a finite number > 0 and < 1"),
    ("label_smoothing", -0.1, "label_smoothing must be a finite number ≥ 0"),
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
                 "attn", "augment", "precision"):
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
    assert parse_assignment("attn_kwargs.min_units=8") == ("attn_kwargs.min_units", 8)
    assert parse_assignment('attn_kwargs={"gate": "tanh"}') == ("attn_kwargs", {"gate": "tanh"})
    with pytest.raises(ConfigError, match="unknown attention option 'attn_kwargs.units'.*min_units"):
        parse_assignment("attn_kwargs.units=8")
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_assignment("ratio")
    with pytest.raises(ConfigError, match="unknown setting 'ration'"):
        parse_assignment("ration=8")


def test_report_profile_honours_model_overrides():
    from selib.models.seed import seed_model
    from selib.training.trainer import build_model

    seed = PROFILES["report"]
    assert build_model(seed, 4).count_params() == seed_model().count_params() == 9_777_472
    assert build_model(seed.replace(ratio=8), 4).count_params() > 9_777_472   # r applies now
    assert build_model(seed.replace(attn=None), 4).count_params() < 9_777_472
    assert len(build_model(seed, 4).losses) == 2                # the seed code's L2, as trained
    assert build_model(seed.replace(l2=0), 4).losses == []


def test_se_stages_and_no_squeeze_are_settings():
    cfg = PROFILES["ci"].replace(se_stages=[3], **{"attn_kwargs.squeeze": "none"})
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


def test_attention_options_have_one_name_in_the_builder_and_the_config():
    """Every builder argument the trainer passes is a config field of the same name."""
    import inspect

    from selib.models.resnet import se_resnet
    from selib.training.trainer import network_kwargs

    kwargs = network_kwargs(PROFILES["gpu"])
    assert set(kwargs) <= set(inspect.signature(se_resnet).parameters)
    assert all(kwargs[k] == PROFILES["gpu"].get(k) for k in kwargs)          # names and values
    assert kwargs["attn_kwargs"] == {"min_units": 8} and kwargs["l2"] == 1e-4


def test_attn_kwargs_one_option_at_a_time_and_normalised():
    cfg = PROFILES["gpu"]
    tanh = cfg.replace(**{"attn_kwargs.gate": "tanh"})
    assert tanh.model.attn_kwargs == {"gate": "tanh", "min_units": 8}       # the others kept
    assert tanh.get("attn_kwargs.gate") == "tanh" and cfg.get("attn_kwargs.gate") == "sigmoid"
    # a layer default is no setting: configs that build the same network are equal
    assert cfg.replace(attn_kwargs={"min_units": 8, "gate": "sigmoid"}) == cfg
    assert cfg.replace(attn=None).model.attn_kwargs == {}                   # no attention, no options
    assert cfg.differences(tanh) == ["attn_kwargs {'min_units': 8} -> {'gate': 'tanh', 'min_units': 8}"]
    eca = cfg.replace(attn="eca", attn_kwargs={"kernel_size": 5})
    assert TrainConfig.from_dict(json.loads(eca.to_json())) == eca


def test_as_recorded_reads_former_model_names():
    """attention -> attn, se_* -> attn_kwargs, model_weight_decay -> l2; a null ratio was no
    attention of any kind (ECA included)."""
    from selib.training.config import as_recorded

    today = PROFILES["gpu"].to_dict()
    model = {k: v for k, v in today["model"].items() if k not in ("attn", "attn_kwargs", "l2")}
    former = {**model, "attention": "se", "se_min_units": 8, "se_gate": "sigmoid", "se_squeeze": "avg",
              "se_use_bias": False, "model_weight_decay": 1e-4}
    assert as_recorded({**today, "model": former}) == today                # a finished run stays finished
    tanh = as_recorded({**today, "model": {**former, "se_gate": "tanh"}})
    assert TrainConfig.from_dict(tanh) == PROFILES["gpu"].replace(**{"attn_kwargs.gate": "tanh"})
    for kind in ("se", "eca"):
        plain = as_recorded({**today, "model": {**former, "attention": kind, "ratio": None}})
        assert TrainConfig.from_dict(plain) == PROFILES["gpu"].replace(attn=None)
    eca = as_recorded({**today, "model": {**former, "attention": "eca", "model_weight_decay": 0.0}})
    assert TrainConfig.from_dict(eca) == PROFILES["gpu"].replace(attn="eca", attn_kwargs={}, l2=0.0)


def test_a_config_file_with_former_names_loads(tmp_path):
    record = {**PROFILES["report"].to_dict(), "name": "seed"}       # the profile's former name too
    model = {k: v for k, v in record["model"].items() if k not in ("attn", "attn_kwargs", "l2")}
    record["model"] = {**model, "attention": "se", "se_min_units": 1, "se_gate": "sigmoid",
                       "se_squeeze": "avg", "se_use_bias": False, "model_weight_decay": 1e-4}
    (tmp_path / "config.json").write_text(json.dumps(record))
    assert TrainConfig.load(tmp_path / "config.json") == PROFILES["report"]
