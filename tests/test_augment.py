"""RandomAffine and the augmentation block: distributions, geometry, seeds, saving, JAX.

The geometric tests run the warp with hand-picked parameters through :func:`affine_matrix` (the
same function the layer uses), and one test checks that the layer's output *is* that single warp
of the parameters it drew, so a layer that warps several times, rotates about the corner or flips
the wrong axis fails here.  The statistical tests use fixed seeds: they are deterministic, and the
bounds (KS p-value > 1e-3, 4-sigma binomial band) would pass a correct sampler with any seed.
"""
from __future__ import annotations

import importlib.util
import math
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from keras import ops
from scipy import stats

from selib.layers.augment import STRENGTHS, RandomAffine, affine_matrix, augmentation

N = 20_000  # draws for the distribution tests


def warp(x: np.ndarray, *, flip: float = 0.0, angle: float = 0.0, tx: float = 0.0,
         ty: float = 0.0, zoom: float = 1.0, fill_mode: str = "nearest") -> np.ndarray:
    """One warp of every image in ``x`` with the same hand-picked parameters."""
    b, h, w = x.shape[:3]
    params = [np.full((b,), v, "float32") for v in (flip, angle, tx, ty, zoom)]
    m = ops.reshape(affine_matrix(*params, height=h, width=w), (-1, 9))[:, :8]
    out = ops.image.affine_transform(x, m, interpolation="bilinear", fill_mode=fill_mode)
    return np.asarray(out)


def pattern(b: int = 2, h: int = 33, w: int = 33, c: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((b, h, w, c), dtype=np.float32)


@pytest.fixture(scope="module")
def strong_params() -> dict[str, np.ndarray]:
    layer = RandomAffine(0.08, 0.15, 0.2, seed=0)
    return {k: np.asarray(v, np.float64) for k, v in layer.sample_parameters(N).items()}


# ------------------------------------------------------------------------------ distributions
@pytest.mark.parametrize("name, lo, hi", [
    ("angle", -0.08 * 2 * math.pi, 0.08 * 2 * math.pi),
    ("tx", -0.15, 0.15),
    ("ty", -0.15, 0.15),
    ("scale", 0.8, 1.2),  # Keras' sampling scale c = 1/zoom ~ U(1-z, 1+z)
])
def test_parameters_fill_their_range_uniformly(strong_params, name, lo, hi):
    v = 1.0 / strong_params["zoom"] if name == "scale" else strong_params[name]
    span = hi - lo
    assert v.min() >= lo - 1e-6 and v.max() <= hi + 1e-6
    assert v.min() < lo + 0.002 * span and v.max() > hi - 0.002 * span  # reaches both ends
    assert stats.kstest(v, "uniform", args=(lo, span)).pvalue > 1e-3


def test_parameters_are_independent(strong_params):
    """tx and ty (and the flip) come from separate draws, not one shared number."""
    bound = 4.0 / math.sqrt(N)
    for a, b in [("tx", "ty"), ("angle", "tx"), ("flip", "angle"), ("zoom", "ty")]:
        assert abs(np.corrcoef(strong_params[a], strong_params[b])[0, 1]) < bound, (a, b)


def test_flip_rate_is_one_half(strong_params):
    flips = strong_params["flip"]
    assert set(np.unique(flips)) == {0.0, 1.0}
    assert abs(flips.sum() - N / 2) < 4 * math.sqrt(N / 4)  # 4-sigma binomial band


def test_disabled_parts_are_exact_identities():
    p = RandomAffine(0.0, 0.0, 0.0, flip=False, seed=1).sample_parameters(64)
    assert np.all(np.asarray(p["flip"]) == 0) and np.all(np.asarray(p["angle"]) == 0)
    assert np.all(np.asarray(p["tx"]) == 0) and np.all(np.asarray(p["zoom"]) == 1)
    x = pattern()
    np.testing.assert_allclose(RandomAffine(flip=False, seed=1)(x, training=True), x, atol=1e-6)


# ------------------------------------------------------------------------------ seeds, training
def test_same_seed_same_output_other_seed_other_output():
    x = pattern(4)
    a, b, c = (RandomAffine(0.05, 0.1, 0.1, seed=s) for s in (7, 7, 8))
    ya, yb, yc = (np.asarray(layer(x, training=True)) for layer in (a, b, c))
    np.testing.assert_array_equal(ya, yb)
    assert np.abs(ya - yc).mean() > 1e-3
    assert np.abs(np.asarray(a(x, training=True)) - ya).mean() > 1e-3  # the seed advances


def test_training_false_is_identity():
    x = pattern(3)
    layer = RandomAffine(0.08, 0.15, 0.2, seed=0)
    np.testing.assert_array_equal(layer(x, training=False), x)
    model = keras.Sequential([keras.Input(x.shape[1:]), layer])
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)


def test_call_is_one_warp_of_the_sampled_matrix():
    """The output equals ONE bilinear warp with affine_matrix(parameters drawn by the same seed)."""
    x = pattern(6, 24, 40, 2)
    params = RandomAffine(0.08, 0.15, 0.2, seed=3).sample_parameters(6)
    m = ops.reshape(affine_matrix(**params, height=24, width=40), (-1, 9))[:, :8]
    expected = ops.image.affine_transform(x, m, interpolation="bilinear", fill_mode="nearest")
    got = RandomAffine(0.08, 0.15, 0.2, seed=3)(x, training=True)
    np.testing.assert_allclose(got, expected, atol=1e-5)


# ------------------------------------------------------------------------------ geometry
def test_matrix_is_the_inverse_of_the_composed_forward_map():
    """Closed form == inv(T(c+d) · zoom · R(angle) · F · T(-c)) built from elementary matrices."""
    rng = np.random.default_rng(1)
    h, w = 30, 50
    for _ in range(5):
        f, a, z = rng.integers(2), rng.uniform(-1, 1), rng.uniform(0.7, 1.4)
        tx, ty = rng.uniform(-0.2, 0.2, 2)
        c, d = np.array([(w - 1) / 2, (h - 1) / 2]), np.array([tx * w, ty * h])
        t = lambda v: np.array([[1, 0, v[0]], [0, 1, v[1]], [0, 0, 1.0]])  # noqa: E731
        rot = np.array([[np.cos(a), np.sin(a), 0], [-np.sin(a), np.cos(a), 0], [0, 0, 1]])
        fwd = t(c + d) @ np.diag([z, z, 1]) @ rot @ np.diag([1 - 2 * f, 1, 1]) @ t(-c)
        got = affine_matrix(*(np.array([v], "float32") for v in (f, a, tx, ty, z)), h, w)
        np.testing.assert_allclose(np.asarray(got)[0], np.linalg.inv(fwd), atol=1e-4)


def test_integer_translation_moves_pattern_exactly():
    x = pattern(2, 32, 32, 3)
    right = warp(x, tx=4 / 32)
    np.testing.assert_allclose(right[:, :, 4:], x[:, :, :-4], atol=1e-5)
    np.testing.assert_allclose(right[:, :, :4], np.repeat(x[:, :, :1], 4, axis=2), atol=1e-5)
    up = warp(x, ty=-3 / 32)  # negative = up; moves rows, not columns
    np.testing.assert_allclose(up[:, :-3], x[:, 3:], atol=1e-5)


def test_rotation_keeps_the_centre_pixel_and_turns_counter_clockwise():
    x = pattern(8, 33, 33, 3)
    y = np.asarray(RandomAffine(rotation=0.08, flip=False, seed=5)(x, training=True))
    np.testing.assert_allclose(y[:, 16, 16], x[:, 16, 16], atol=1e-5)
    assert np.abs(y - x).mean() > 0.05
    dot = np.zeros((1, 33, 33, 1), "float32")
    dot[0, 16, 26] = 1.0  # right of the centre ...
    turned = warp(dot, angle=math.pi / 2)
    assert np.unravel_index(turned[0, ..., 0].argmax(), (33, 33)) == (6, 16)  # ... goes up


def test_flip_mirrors_left_right():
    x = pattern(2, 20, 31, 4)
    np.testing.assert_allclose(warp(x, flip=1.0), x[:, :, ::-1], atol=1e-5)
    x = pattern(32, 9, 11, 1)
    y = np.asarray(RandomAffine(seed=2)(x, training=True))  # flip only
    same = [np.allclose(yi, xi, atol=1e-5) for yi, xi in zip(y, x)]
    mirrored = [np.allclose(yi, xi[:, ::-1], atol=1e-5) for yi, xi in zip(y, x)]
    assert all(s != m for s, m in zip(same, mirrored)) and any(same) and any(mirrored)


def test_zoom_above_one_magnifies():
    sq = np.zeros((1, 33, 33, 1), "float32")
    sq[0, 12:21, 12:21] = 1.0  # a centred 9×9 square
    area = lambda im: float((im > 0.5).sum())  # noqa: E731
    assert 3.0 < area(warp(sq, zoom=2.0)) / area(sq) < 5.0
    assert area(warp(sq, zoom=0.5)) / area(sq) < 0.4
    big = warp(sq, zoom=2.0)[0, ..., 0]
    assert big[16, 16] == 1.0 and big[16, 6] < 0.5 and big[16, 8] > 0.5  # grows about the centre


# ------------------------------------------------------------------------------ dtypes, shapes
@pytest.mark.parametrize("channels", [1, 5])
def test_any_channel_count_and_unbatched(channels):
    layer = RandomAffine(0.05, 0.1, 0.1, seed=0)
    x = pattern(2, 16, 16, channels)
    assert layer(x, training=True).shape == x.shape
    assert layer(x[0], training=True).shape == x[0].shape


def test_keeps_dtype():
    x = pattern(2, 16, 16, 3)
    half = RandomAffine(0.05, 0.1, 0.1, seed=0, dtype="mixed_float16")(x, training=True)
    assert keras.backend.standardize_dtype(half.dtype) == "float16"
    ref = RandomAffine(0.05, 0.1, 0.1, seed=0)(x, training=True)
    np.testing.assert_allclose(np.asarray(half, "float32"), ref, atol=2e-3)
    ints = RandomAffine(0.05, 0.1, 0.1, seed=0)((x * 255).astype("uint8"), training=True)
    assert keras.backend.standardize_dtype(ints.dtype) == "uint8"


def test_bad_arguments_raise():
    for kwargs in ({"zoom": 1.0}, {"translation": -0.1}, {"fill_mode": "mirror"}):
        with pytest.raises(ValueError):
            RandomAffine(**kwargs)


# ------------------------------------------------------------------------------ saving
def test_round_trips_through_a_keras_file(tmp_path):
    layer = RandomAffine(0.03, 0.1, 0.1, fill_mode="reflect", seed=11, name="aug")
    inp = keras.Input((16, 16, 3))
    out = keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(layer(inp)))
    model = keras.Model(inp, out)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", safe_mode=True)
    again = loaded.get_layer("aug")
    assert isinstance(again, RandomAffine) and again.get_config() == layer.get_config()
    x = pattern(2, 16, 16, 3)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    assert np.abs(np.asarray(again(x, training=True)) - x).mean() > 1e-3


# ------------------------------------------------------------------------------ the block
@pytest.mark.parametrize("strength", sorted(STRENGTHS))
def test_augmentation_block_follows_its_strength(strength):
    p = STRENGTHS[strength]
    block = augmentation(strength, seed=4)
    assert block.name == f"augment_{strength}"
    affine, contrast, *rest = block.layers
    assert affine.rotation == p["rotation"] and affine.zoom == p["zoom"]
    assert affine.translation == p["translation"]
    assert affine.flip and affine.fill_mode == "nearest"
    assert isinstance(contrast, keras.layers.RandomContrast)
    assert [type(r) for r in rest] == ([keras.layers.RandomBrightness] if p["brightness"] else [])
    x = pattern(4, 16, 16, 3)
    y = np.asarray(block(x, training=True))
    assert y.shape == x.shape and y.min() >= 0.0 and y.max() <= 1.0
    np.testing.assert_array_equal(augmentation(strength, seed=4)(x, training=True), y)
    np.testing.assert_array_equal(block(x, training=False), x)


def test_unknown_strength_lists_the_choices():
    with pytest.raises(ValueError, match="light.*medium.*strong"):
        augmentation("extreme")


# ------------------------------------------------------------------------------ JAX backend
_JAX_SCRIPT = textwrap.dedent("""
    import importlib.util, sys
    import numpy as np, keras, jax
    assert keras.backend.backend() == "jax", keras.backend.backend()
    spec = importlib.util.spec_from_file_location("selib_augment_under_test", sys.argv[1])
    aug = importlib.util.module_from_spec(spec); spec.loader.exec_module(aug)
    x = np.random.default_rng(0).random((4, 16, 16, 3), dtype=np.float32)
    eager = np.asarray(aug.RandomAffine(0.08, 0.15, 0.2, seed=1)(x, training=True))
    layer = aug.RandomAffine(0.08, 0.15, 0.2, seed=1)
    layer.build(x.shape)
    state = [v.value for v in layer.non_trainable_variables]
    step = jax.jit(lambda s, x: layer.stateless_call([], s, x, training=True))
    y1, state = step(state, x)
    y2, state = step(state, x)
    np.testing.assert_allclose(np.asarray(y1), eager, atol=1e-5)  # jit == eager, same seed
    assert np.abs(np.asarray(y2) - np.asarray(y1)).mean() > 1e-3  # the seed advances under jit
    inp = keras.Input((16, 16, 3))
    feats = keras.layers.GlobalAveragePooling2D()(aug.augmentation("strong", seed=0)(inp))
    model = keras.Model(inp, keras.layers.Dense(2)(feats))
    model.compile("sgd", "mse")
    assert model.jit_compile
    model.fit(x, np.zeros((4, 2)), batch_size=2, epochs=1, verbose=0)
    print("JAX-OK")
""")


@pytest.mark.slow   # a JAX start-up in a fresh process
def test_runs_on_jax_backend_inside_jit():
    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed in this interpreter")
    import selib.layers.augment as module

    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    run = subprocess.run([sys.executable, "-c", _JAX_SCRIPT, module.__file__], env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and "JAX-OK" in run.stdout, run.stderr[-3000:]
