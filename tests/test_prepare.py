"""selib.prepare: floats, one-hot, stratified splits and the tf.data pipeline."""
from __future__ import annotations

import numpy as np
import pytest

from selib.data.splits import Split, min_per_class, one_hot, split, to_float
from selib.errors import SelibError, SplitError
from selib.data.feeding import augmentation, make_dataset


def data(n_per_class=(40, 30, 20, 10), size=8, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(n_per_class)), n_per_class)
    images = rng.integers(0, 256, (len(labels), size, size, 1), dtype=np.uint8)
    images[:, 0, 0, 0] = np.arange(len(labels)) % 256  # a per-sample tag to trace rows
    return images, labels


def test_to_float():
    x = np.array([[0, 51, 255]], np.uint8)
    out = to_float(x)
    assert out.dtype == np.float32 and out[0].tolist() == pytest.approx([0.0, 0.2, 1.0])
    assert x.dtype == np.uint8 and x[0, 2] == 255  # input untouched


def test_one_hot():
    assert one_hot(np.array([0, 2, 1]), 4).tolist() == [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0]]
    assert one_hot(np.array([0, 2])).shape == (2, 3) and one_hot(np.array([1]), 4).dtype == np.float32
    with pytest.raises(ValueError):
        one_hot(np.array([0, 4]), 4)
    with pytest.raises(ValueError):
        one_hot(np.array([-1, 0]), 4)
    with pytest.raises(ValueError):
        one_hot(np.array([0.5]), 2)


def test_split_sizes_and_stratification():
    x, y = data()
    s = split(x, y, test_size=0.2, seed=42)
    assert isinstance(s, Split) and s.x_val is None and s.y_val is None
    assert len(s.x_train) == 80 and len(s.x_test) == 20
    assert np.bincount(s.y_test).tolist() == [8, 6, 4, 2]  # every class keeps its share
    assert np.bincount(s.y_train).tolist() == [32, 24, 16, 8]
    all_idx = np.concatenate([s.train_idx, s.val_idx, s.test_idx])
    assert sorted(all_idx.tolist()) == list(range(100))
    assert np.array_equal(s.x_train, x[s.train_idx]) and np.array_equal(s.y_test, y[s.test_idx])
    assert "train=80" in repr(s)


def test_split_validation_from_train_75_25():
    x, y = data()
    x_train, y_train, x_val, y_val, x_test, y_test = split(x, y, test_size=0.2, val_size=0.25)
    assert (len(x_train), len(x_val), len(x_test)) == (60, 20, 20)
    assert np.bincount(y_val).tolist() == [8, 6, 4, 2]
    s = split(x, y, val_size=0.25)
    assert not set(s.val_idx) & set(s.test_idx) and not set(s.val_idx) & set(s.train_idx)


def test_split_is_reproducible_and_seeded():
    x, y = data()
    a, b, c = split(x, y, seed=1), split(x, y, seed=1), split(x, y, seed=2)
    assert np.array_equal(a.test_idx, b.test_idx)
    assert not np.array_equal(a.test_idx, c.test_idx)


def test_split_accepts_one_hot_labels_and_no_test():
    x, y = data()
    s = split(x, one_hot(y, 4), test_size=0.2)
    assert s.y_train.shape == (80, 4) and s.y_test.sum(axis=0).tolist() == [8, 6, 4, 2]
    s = split(x, y, test_size=None, val_size=0.25)
    assert s.x_test is None and len(s.x_train) == 75 and len(s.x_val) == 25
    with pytest.raises(ValueError):
        split(x, y[:-1])


def test_single_class_is_refused_with_its_count():
    x, y = data((40,))
    with pytest.raises(SplitError, match=r"^need at least 2 classes to train a classifier, "
                                         r"found 1: chair 40$") as e:
        split(x, y, class_names=["chair"])
    assert isinstance(e.value, ValueError) and isinstance(e.value, SelibError)
    with pytest.raises(SplitError, match="found 1: class 0 40"):
        split(x, y, test_size=None)  # even with nothing to split: it is not a classifier


def test_too_small_class_is_named_with_every_count():
    x, y = data((3, 40))
    msg = ("cannot split 3 images of 'bench' (needs at least 5 per class for a stratified "
           "20 % test split and 25 % validation split): classes bench 3, chair 40")
    with pytest.raises(SplitError) as e:
        split(x, y, test_size=0.2, val_size=0.25, class_names=["bench", "chair"])
    assert str(e.value) == msg
    x, y = data((3, 40, 1))
    with pytest.raises(SplitError, match=r"cannot split 3 images of 'class 0' and 1 of "
                                         r"'class 2' \(needs at least 5 per class for a "
                                         r"stratified 20 % test split\): classes class 0 3, "
                                         r"class 1 40, class 2 1$"):
        split(x, y)


def test_split_is_checked_before_scikit_learn_runs(monkeypatch):
    import sklearn.model_selection

    def boom(*a, **k):
        raise AssertionError("scikit-learn should not have been called")

    monkeypatch.setattr(sklearn.model_selection, "train_test_split", boom)
    x, y = data((1, 40))
    with pytest.raises(SplitError, match="cannot split 1 images of 'class 0'"):
        split(x, y)


def test_named_class_without_images_is_reported():
    x, y = data((40, 30))
    with pytest.raises(SplitError, match="0 images of 'stool'.*chair 40, sofa 30, stool 0"):
        split(x, y, class_names=["chair", "sofa", "stool"])


@pytest.mark.parametrize("test_size, val_size, need", [
    (0.2, None, 5), (0.2, 0.25, 5), (0.5, None, 2), (0.5, 0.5, 6), (0.1, None, 10),
    (0.3, 0.2, 8), (None, 0.25, 4), (10, None, 5), (0.2, 9, 5)])
def test_smallest_splittable_class_is_exact(test_size, val_size, need):
    """A class with exactly the minimum splits (and reaches the test part); one fewer fails."""
    x, y = data((40, need))
    s = split(x, y, test_size=test_size, val_size=val_size)
    parts = [p for p, asked in ((s.test_idx, test_size), (s.val_idx, val_size)) if asked]
    assert all(1 in y[p] for p in parts[:1]) and 1 in y[s.train_idx]
    x, y = data((40, need - 1))
    with pytest.raises(SplitError, match=f"needs at least {need} per class"):
        split(x, y, test_size=test_size, val_size=val_size)


@pytest.mark.parametrize("test_size, val_size", [(0.2, 0.25), (0.5, 0.5), (0.3, 0.2), (0.1, 0.1)])
def test_minimum_is_enough_for_scikit_learn_whatever_the_mix(test_size, val_size):
    from fractions import Fraction

    need = min_per_class(Fraction(str(test_size)), Fraction(str(val_size)))
    rng = np.random.default_rng(0)
    for _ in range(40):
        counts = [need] + rng.integers(need, 4 * need + 30, rng.integers(1, 6)).tolist()
        x, y = data(tuple(counts))
        s = split(x, y, test_size=test_size, val_size=val_size, seed=int(rng.integers(1000)))
        assert len(s.train_idx) + len(s.val_idx) + len(s.test_idx) == sum(counts)
        assert 0 in y[s.test_idx] and 0 in y[s.train_idx]


@pytest.mark.parametrize("bad", [dict(test_size=1.5), dict(test_size=100), dict(test_size=-3),
                                 dict(val_size=1.0)])
def test_impossible_sizes_are_one_line_split_errors(bad):
    x, y = data()
    with pytest.raises(SplitError, match="split of|must be a share"):
        split(x, y, **bad)


def test_unstratified_split_skips_the_per_class_minimum():
    x, y = data((40, 1))
    s = split(x, y, stratify=False)
    assert len(s.test_idx) == 9
    with pytest.raises(SplitError, match="need at least 2 classes"):
        split(*data((40,)), stratify=False)


@pytest.mark.parametrize("strength", ["light", "medium", "strong"])
def test_augmentation_layers(strength):
    import keras

    aug = augmentation(strength, seed=0)
    assert isinstance(aug, keras.Sequential)
    names = [type(layer).__name__ for layer in aug.layers]
    assert {"RandomFlip", "RandomTranslation", "RandomZoom", "RandomContrast"} <= set(names)
    x = np.random.default_rng(0).random((4, 16, 16, 1)).astype("float32")
    assert np.allclose(keras.ops.convert_to_numpy(aug(x, training=False)), x)
    assert not np.allclose(keras.ops.convert_to_numpy(aug(x, training=True)), x)


def test_augmentation_rejects_unknown_strength():
    with pytest.raises(ValueError):
        augmentation("extreme")


def test_make_dataset_eval_is_exact_float_and_ordered():
    x, y = data()
    ds = make_dataset(x, y, batch_size=16)
    batches = list(ds.as_numpy_iterator())
    assert len(batches) == 7 and batches[0][0].dtype == np.float32
    xs = np.concatenate([b[0] for b in batches])
    assert np.allclose(xs, x / 255.0) and np.concatenate([b[1] for b in batches]).tolist() == y.tolist()


def test_make_dataset_training_shuffles_reproducibly_without_augmentation():
    x, y = data()
    run = lambda: np.concatenate([b[0][:, 0, 0, 0] for b in make_dataset(  # noqa: E731
        x, y, 32, training=True, shuffle_seed=3).as_numpy_iterator()])
    tags_a, tags_b = run(), run()
    assert np.array_equal(tags_a, tags_b)
    assert not np.array_equal(tags_a, x[:, 0, 0, 0] / 255.0)  # order changed
    xs = np.concatenate([b[0] for b in make_dataset(x, y, 32, training=True).as_numpy_iterator()])
    # augmentation is off by default: the very same pixel values, only reordered
    assert np.allclose(np.sort(xs.ravel()), np.sort((x / 255.0).ravel()))


def test_make_dataset_augments_only_when_training():
    x, y = data(size=16)
    train = np.concatenate([b[0] for b in make_dataset(
        x, y, 100, training=True, augment="light", shuffle_seed=0).as_numpy_iterator()])
    assert not np.allclose(np.sort(train.ravel()), np.sort((x / 255.0).ravel()))
    assert train.min() >= 0.0 and train.max() <= 1.0
    evaluation = next(make_dataset(x, y, 100, augment="light").as_numpy_iterator())[0]
    assert np.allclose(evaluation, x / 255.0)


def test_make_dataset_one_hot_and_unlabelled():
    x, y = data()
    xb, yb = next(make_dataset(x, y, 10, one_hot_classes=4).as_numpy_iterator())
    assert yb.shape == (10, 4) and np.array_equal(yb.argmax(1), y[:10])
    xb = next(make_dataset(x, batch_size=10).as_numpy_iterator())
    assert xb.shape == (10, 8, 8, 1)
    with pytest.raises(ValueError, match="uint8"):
        make_dataset(x.astype("float32"), y)
