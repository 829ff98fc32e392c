"""selib.data.splits and selib.data.feeding: floats, one-hot, stratified splits, seeded batches.

Every test is built so that a plausible wrong implementation fails it: images carry their index
as a pixel tag, so order, loss, duplication and label mix-ups are all visible.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest

from selib.data.feeding import ArrayBatches, SyncEpoch, batches
from selib.data.splits import Split, min_per_class, one_hot, split, to_float
from selib.errors import ConfigError, SelibError, SplitError


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


# ---------------------------------------------------------------- from a folder to a split (issue 15 #8)
def _folder(root: Path, counts: dict[str, int]) -> Path:
    for name, n in counts.items():
        (root / name).mkdir(parents=True)
        for i in range(n):
            cv2.imwrite(str(root / name / f"{i}.png"), np.full((12, 12), 10 * i, np.uint8))
    return root


@pytest.mark.parametrize("counts, message", [
    ({"chair": 6}, r"^need at least 2 classes to train a classifier, found 1: chair 6$"),
    ({"chair": 6, "sofa": 2}, r"^cannot split 2 images of 'sofa' \(needs at least 5 per class "
                              r"for a stratified 20 % test split\): classes chair 6, sofa 2$"),
])
def test_folder_that_cannot_train_is_one_line_naming_classes(tmp_path, counts, message):
    """What the trainer does (scan, load, split with the class names) refuses to train."""
    from selib.data.loading import load_images
    from selib.data.scanning import DataFolderWarning, scan

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataFolderWarning)  # "only one class" is warned too
        loaded = load_images(scan(_folder(tmp_path, counts)), size=8, use_cache=False)
    with pytest.raises(SplitError, match=message) as e:
        split(loaded.images, loaded.labels, test_size=0.2, class_names=loaded.class_names)
    assert "\n" not in str(e.value)


# ---------------------------------------------------------------- ArrayBatches
def tags(xb: np.ndarray) -> list[int]:
    """The per-sample tags (= row indices) of a batch of images from :func:`data`."""
    return xb[:, 0, 0, 0].astype(int).tolist()


def epoch_of(ds: ArrayBatches) -> list[list[int]]:
    """One pass: the tags of every batch, in the order Keras would fetch them."""
    return [tags(ds[i][0] if isinstance(ds[i], tuple) else ds[i]) for i in range(len(ds))]


def test_evaluation_batches_are_the_arrays_in_file_order_uint8_with_a_remainder():
    x, y = data()  # 100 images
    ds = ArrayBatches(x, y, 16)
    got = [ds[i] for i in range(len(ds))]
    assert len(ds) == 7 and [len(b[0]) for b in got] == [16] * 6 + [4]
    xs, ys = np.concatenate([b[0] for b in got]), np.concatenate([b[1] for b in got])
    assert xs.dtype == np.uint8 and np.array_equal(xs, x)  # not rescaled, not reordered
    assert np.array_equal(ys, y)
    assert epoch_of(batches(x, y, 16, replicas=2)) == epoch_of(ds)  # evaluation drops nothing


@pytest.mark.parametrize("drop", [False, True])
def test_every_image_once_per_epoch_with_its_own_label(drop):
    x, y = data()
    ds = ArrayBatches(x, y, 32, shuffle=True, seed=5, drop_remainder=drop)
    for _ in range(3):
        got = [ds[i] for i in range(len(ds))]
        seen = [t for xb, _ in got for t in tags(xb)]
        assert len(seen) == len(set(seen)) == (96 if drop else 100)
        assert set(seen) <= set(range(100))
        labels = np.concatenate([yb for _, yb in got])
        assert np.array_equal(labels, y[seen])  # labels travel with their images
        assert all(xb.dtype == np.uint8 for xb, _ in got)
        ds.on_epoch_end()


def test_order_depends_only_on_seed_and_epoch():
    x, y = data()
    run = ArrayBatches(x, y, 16, shuffle=True, seed=3)
    history = []
    for _ in range(3):
        history.append(epoch_of(run))
        run.on_epoch_end()
    assert epoch_of(ArrayBatches(x, y, 16, shuffle=True, seed=3)) == history[0]
    assert epoch_of(ArrayBatches(x, y, 16, shuffle=True, seed=3, epoch=2)) == history[2]  # resume
    jumped = ArrayBatches(x, y, 16, shuffle=True, seed=3)
    jumped.set_epoch(1)
    assert epoch_of(jumped) == history[1]
    assert epoch_of(ArrayBatches(x, y, 16, shuffle=True, seed=4)) != history[0]


def test_shuffling_differs_between_epochs_and_from_file_order():
    x, y = data()
    ds = batches(x, y, 16, training=True, seed=0)
    orders, first_batches = [], []
    for _ in range(3):
        e = epoch_of(ds)
        orders.append(sum(e, []))
        first_batches.append(set(e[0]))
        ds.on_epoch_end()
    assert orders[0] != list(range(100))
    assert orders[0] != orders[1] != orders[2] != orders[0]
    # not just the batches reordered: which images share a batch changes too
    assert first_batches[0] != first_batches[1] != first_batches[2]


def test_drop_remainder_gives_equal_batches_and_rotates_what_is_dropped():
    x, y = data()
    ds = batches(x, y, 32, training=True, seed=1, replicas=2)
    assert ds.drop_remainder and len(ds) == 3
    dropped = []
    for _ in range(4):
        e = epoch_of(ds)
        assert [len(b) for b in e] == [32, 32, 32]
        dropped.append(frozenset(range(100)) - set(sum(e, [])))
        ds.on_epoch_end()
    assert all(len(d) == 4 for d in dropped) and len(set(dropped)) == 4  # not always the same 4
    assert len(batches(x, y, 32, training=True, replicas=1)) == 4  # one device keeps them all
    with pytest.raises(ConfigError, match="batch_size 200 is larger than the 100 training images"):
        batches(x, y, 200, training=True, replicas=2)


def test_one_hot_per_batch_and_unlabelled_batches():
    x, y = data()
    xb, yb = ArrayBatches(x, y, 10, shuffle=True, seed=2, num_classes=4)[1]
    assert yb.shape == (10, 4) and yb.dtype == np.float32 and yb.sum(axis=1).tolist() == [1.0] * 10
    assert yb.argmax(axis=1).tolist() == y[tags(xb)].tolist()
    xb = ArrayBatches(x, batch_size=10)[9]
    assert isinstance(xb, np.ndarray) and tags(xb) == list(range(90, 100))


def test_bad_arguments_and_indices():
    x, y = data()
    with pytest.raises(ValueError, match="100 images but 99 labels"):
        ArrayBatches(x, y[:-1])
    with pytest.raises(ConfigError, match="at least 1"):
        ArrayBatches(x, y, 0)
    ds = ArrayBatches(x, y, 16)
    with pytest.raises(IndexError):
        ds[7]  # past the end: an error, not an empty batch
    assert len(list(ds)) == 7  # iterating stops after the last batch


def test_keras_fit_sees_the_seeded_order_every_epoch_and_after_a_resume():
    """Through ``Model.fit`` (shuffle=False + SyncEpoch): epoch ``e`` is ``(seed, e)``'s order.

    Keras calls the dataset's ``on_epoch_end`` once before training and, with its default
    ``shuffle=True``, shuffles the batches with Python's ``random``; either would break this.
    """
    import keras

    x, y = data((20, 20, 10))
    log: list = []

    class Recorded(ArrayBatches):
        def __getitem__(self, i):
            xb, yb = super().__getitem__(i)
            log.append(tags(xb))
            return xb, yb

    class Mark(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            log.append(epoch)

    def fit(initial_epoch: int) -> dict[int, list[list[int]]]:
        log.clear()
        ds = Recorded(x, y, 16, shuffle=True, seed=7, num_classes=3, epoch=initial_epoch)
        model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                                  keras.layers.Dense(3)])
        model.compile("sgd", "categorical_crossentropy")
        model.fit(ds, epochs=3, initial_epoch=initial_epoch, shuffle=False, verbose=0,
                  callbacks=[SyncEpoch(ds), Mark()])
        seen: dict[int, list[list[int]]] = {}
        for entry in log[log.index(initial_epoch):]:  # what came before is Keras' shape peek
            if isinstance(entry, int):
                seen[entry] = []
            else:
                seen[max(seen)].append(entry)
        return seen

    def expected(epoch: int) -> list[list[int]]:
        return epoch_of(ArrayBatches(x, y, 16, shuffle=True, seed=7, epoch=epoch))

    whole = fit(0)
    assert whole == {e: expected(e) for e in range(3)}
    assert fit(2) == {2: whole[2]}  # resumed at epoch 2: the very batches of the uninterrupted run
