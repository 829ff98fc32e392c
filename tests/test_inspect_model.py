"""The tabular model views agree with the architectures (and with Keras' own counts)."""
from __future__ import annotations

import pytest

from selib import count_se_params, se_inception_net, se_resnet, se_resnet50, seed_model
from selib.models.tables import block_prefix, block_table, cost_table, layer_table, se_table


@pytest.fixture(scope="module")
def seed():
    return seed_model()


def test_block_table_shows_the_seed_loop_bug(seed):
    t = block_table(seed)
    assert t.groupby("stage").size().tolist() == [2, 1, 1, 2]
    assert t["stage"].tolist() == [2, 2, 3, 4, 5, 5]          # keras numbering: conv2 … conv5
    assert t["se_channels"].tolist() == [64, 64, 128, 256, 512, 512]
    assert t["se_units"].tolist() == [4, 4, 8, 16, 32, 32]
    assert t["shortcut"].tolist() == ["identity", "identity", "projection", "projection",
                                      "projection", "identity"]
    assert t["stride"].tolist() == [1, 1, 2, 2, 2, 1]
    assert t["input"].iloc[0] == "119×119×64" and t["output"].iloc[-1] == "15×15×512"
    assert t["se_params"].sum() == count_se_params(seed) == 76_800


def test_block_table_params_add_up_to_the_model(seed):
    t = block_table(seed)
    rest = layer_table(seed)
    outside = rest[rest["layer"].map(block_prefix).isna()]["params"].sum()
    assert set(rest[rest["layer"].map(block_prefix).isna()]["layer"]) == {
        "image", "conv1_conv", "pool1_pool", "post_bn", "post_relu", "avg_pool", "predictions"}
    assert t["params"].sum() + outside == seed.count_params() == 9_777_472


def test_layer_table_of_one_block(seed):
    t = layer_table(seed, "conv3_block1_")
    assert t["kind"].tolist().count("Conv2D") == 3  # two 3×3 convs and the 1×1 projection
    assert t["kind"].tolist().count("SqueezeExcite") == 1
    assert t.set_index("layer").loc["conv3_block1_se", "params"] == 2 * 128 * 8
    assert t["output"].iloc[-1] == "60×60×128"


def test_block_table_v1_and_inception():
    t = block_table(se_resnet50())
    assert len(t) == 16 and t["shortcut"].tolist().count("projection") == 4
    assert t["se_channels"].tolist() == [256] * 3 + [512] * 4 + [1024] * 6 + [2048] * 3
    inc = block_table(se_inception_net())
    assert inc["block"].unique().tolist() == ["inception"]
    assert inc["se_channels"].tolist() == [64, 128, 256] and inc["shortcut"].tolist() == [""] * 3
    assert inc["stage"].tolist() == [2, 3, 4]


def test_block_table_counts_any_attention():
    t = block_table(se_resnet((32, 32, 3), 4, depth=(1, 1), filters=(16, 32), initial_filters=16,
                              attn="eca"))
    assert t["se_channels"].tolist() == [16, 32] and t["se_units"].tolist() == [0, 0]
    assert t["se_params"].tolist() == [3, 3]                    # ECA: k = 3 weights a block


def test_se_table_counts(seed):
    t = se_table(seed)
    assert len(t) == 6 and t["params"].sum() == 76_800
    first = t.iloc[0]
    assert first["feature_map"] == "119×119×64" and first["units"] == 4
    assert first["macs"] == 2 * 64 * 4 + 2 * 119 * 119 * 64
    assert t["layer"].iloc[0] == "conv2_block1_se"
    thin = se_table(se_resnet((32, 32, 3), 4, depth=(1, 1), filters=(16, 32), initial_filters=16,
                              attn_kwargs={"min_units": 8}))
    assert thin["units"].tolist() == [8, 8] and thin["params"].tolist() == [2 * 16 * 8, 2 * 32 * 8]
    assert se_table(se_resnet((32, 32, 3), 4, ratio=None)).empty


def test_cost_table_overheads():
    models = {"resnet": se_resnet((64, 64, 3), 4, ratio=None), "se": se_resnet((64, 64, 3), 4)}
    t = cost_table(models, baseline="resnet")
    assert t.loc["se", "params"] - t.loc["resnet", "params"] == t.loc["se", "se_params"] > 0
    assert t.loc["resnet", "params_overhead_%"] == 0.0 and t.loc["se", "macs_overhead_%"] > 0
    assert (t["trainable"] + t["non_trainable"] == t["params"]).all()
    with pytest.raises(KeyError):
        cost_table(models, baseline="nope")
