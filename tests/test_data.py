"""pyfastnn.data: DataLoader (batching, shuffle, drop_last, seeding, collate), TensorDataset,
Subset and random_split, train_test_split (stratified), scalers, one-hot encoding, and the
bundled/generated datasets."""

import numpy as np
import pytest

import pyfastnn as pf
from pyfastnn.data import (DataLoader, Dataset, MinMaxScaler, StandardScaler, Subset, TensorDataset,
                           default_collate, one_hot, random_split, to_categorical, train_test_split)
from pyfastnn.data import datasets


def _ds(n=10):
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    y = np.arange(n, dtype=np.int64)
    return TensorDataset(x, y), x, y


# ---------------------------------------------------------------- TensorDataset


def test_tensor_dataset_items():
    ds, x, y = _ds()
    assert len(ds) == 10
    xi, yi = ds[3]
    assert isinstance(xi, pf.Tensor) and isinstance(yi, pf.Tensor)
    np.testing.assert_array_equal(xi.numpy(), x[3])
    assert yi.item() == 3
    xs, ys = ds[2:4]
    assert xs.shape == (2, 2)
    t = TensorDataset(pf.tensor(x), y.tolist())  # Tensors and lists too
    np.testing.assert_array_equal(t[9][0].numpy(), x[9])


def test_tensor_dataset_errors():
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(ValueError, match="size mismatch"):
        TensorDataset(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="size mismatch"):
        TensorDataset(np.zeros(3), np.array(1.0))


# ---------------------------------------------------------------- DataLoader


def test_batches_in_order_without_shuffle():
    ds, x, y = _ds(10)
    loader = DataLoader(ds, batch_size=4)
    assert len(loader) == 3
    batches = list(loader)
    assert [b[0].shape for b in batches] == [(4, 2), (4, 2), (2, 2)]
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in batches]), y)
    assert all(isinstance(t, pf.Tensor) for b in batches for t in b)


def test_drop_last():
    ds, _, _ = _ds(10)
    loader = DataLoader(ds, batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [len(b[1]) for b in loader] == [4, 4]
    assert len(DataLoader(ds, batch_size=5, drop_last=True)) == 2
    assert len(DataLoader(ds, batch_size=11, drop_last=True)) == 0
    assert list(DataLoader(ds, batch_size=11, drop_last=True)) == []


def test_shuffle_is_a_permutation_and_changes_each_epoch():
    ds, _, y = _ds(50)
    loader = DataLoader(ds, batch_size=8, shuffle=True, generator=0)
    e1 = np.concatenate([b[1].numpy() for b in loader])
    e2 = np.concatenate([b[1].numpy() for b in loader])
    assert sorted(e1.tolist()) == list(range(50)) and sorted(e2.tolist()) == list(range(50))
    assert not np.array_equal(e1, y) and not np.array_equal(e1, e2)
    # rows stay together
    for xb, yb in loader:
        np.testing.assert_array_equal(xb.numpy()[:, 0], 2 * yb.numpy())


def test_shuffle_seeding():
    ds, _, _ = _ds(40)

    def epochs(loader, n=2):
        return [np.concatenate([b[1].numpy() for b in loader]) for _ in range(n)]

    a = epochs(DataLoader(ds, batch_size=8, shuffle=True, generator=123))
    b = epochs(DataLoader(ds, batch_size=8, shuffle=True, generator=123))
    np.testing.assert_array_equal(a, b)
    c = epochs(DataLoader(ds, batch_size=8, shuffle=True, generator=np.random.default_rng(123)))
    np.testing.assert_array_equal(a, c)
    pf.manual_seed(7)
    d = epochs(DataLoader(ds, batch_size=8, shuffle=True))
    pf.manual_seed(7)
    e = epochs(DataLoader(ds, batch_size=8, shuffle=True))
    np.testing.assert_array_equal(d, e)
    pf.manual_seed(8)
    f = epochs(DataLoader(ds, batch_size=8, shuffle=True))
    assert not np.array_equal(d, f)


class _Squares(Dataset):
    """A map-style dataset without `take`: batched sample by sample through collate."""

    def __len__(self):
        return 7

    def __getitem__(self, i):
        return np.array([i, i * i], np.float32), i


def test_generic_dataset_uses_default_collate():
    batches = list(DataLoader(_Squares(), batch_size=3))
    assert len(batches) == 3
    xb, yb = batches[0]
    np.testing.assert_array_equal(xb.numpy(), [[0, 0], [1, 1], [2, 4]])
    np.testing.assert_array_equal(yb.numpy(), [0, 1, 2])
    assert batches[-1][0].shape == (1, 2)


def test_custom_collate_fn():
    seen = []

    def collate(samples):
        seen.append(len(samples))
        return sum(s[1] for s in samples)

    out = list(DataLoader(_Squares(), batch_size=3, collate_fn=collate))
    assert out == [3, 12, 6] and seen == [3, 3, 1]


def test_default_collate_nesting():
    samples = [(np.ones(2), 1, {"a": np.zeros(3), "b": 2.0}) for _ in range(4)]
    x, y, d = default_collate(samples)
    assert x.shape == (4, 2) and y.shape == (4,) and d["a"].shape == (4, 3) and d["b"].shape == (4,)
    t = default_collate([pf.tensor([1.0, 2.0]), pf.tensor([3.0, 4.0])])
    np.testing.assert_array_equal(t.numpy(), [[1, 2], [3, 4]])


def test_loader_over_subset():
    ds, _, y = _ds(10)
    sub = Subset(ds, [9, 0, 4])
    got = np.concatenate([b[1].numpy() for b in DataLoader(sub, batch_size=2)])
    np.testing.assert_array_equal(got, [9, 0, 4])
    sub2 = Subset(_Squares(), [6, 1])  # no take(): per-sample
    np.testing.assert_array_equal(next(iter(DataLoader(sub2, batch_size=2)))[1].numpy(), [6, 1])


@pytest.mark.parametrize("bad", [0, -1, 2.0, True, None])
def test_bad_batch_size(bad):
    ds, _, _ = _ds()
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(ds, batch_size=bad)


# ---------------------------------------------------------------- random_split


def test_random_split_lengths_and_disjoint():
    ds, _, _ = _ds(10)
    a, b = random_split(ds, [7, 3], generator=0)
    assert len(a) == 7 and len(b) == 3
    ids = [int(a[i][1].item()) for i in range(7)] + [int(b[i][1].item()) for i in range(3)]
    assert sorted(ids) == list(range(10))
    a2, _ = random_split(ds, [7, 3], generator=0)
    np.testing.assert_array_equal(a.indices, a2.indices)
    a3, _ = random_split(ds, [7, 3], generator=np.random.default_rng(0))
    np.testing.assert_array_equal(a.indices, a3.indices)
    pf.manual_seed(3)
    g1 = random_split(ds, [5, 5])[0].indices
    pf.manual_seed(3)
    np.testing.assert_array_equal(random_split(ds, [5, 5])[0].indices, g1)


def test_random_split_fractions_like_torch():
    ds, _, _ = _ds(10)
    parts = random_split(ds, [0.5, 0.3, 0.2], generator=1)
    assert [len(p) for p in parts] == [5, 3, 2]
    parts = random_split(_ds(11)[0], [0.34, 0.33, 0.33], generator=1)  # remainders go round-robin
    assert [len(p) for p in parts] == [4, 4, 3]


def test_random_split_errors():
    ds, _, _ = _ds(10)
    with pytest.raises(ValueError, match="sum of input lengths"):
        random_split(ds, [5, 4])


# ---------------------------------------------------------------- train_test_split


def test_train_test_split_sizes_and_alignment():
    x = np.arange(100).reshape(50, 2)
    y = np.arange(50)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, seed=0)
    assert len(x_tr) == 40 and len(x_te) == 10 and len(y_tr) == 40 and len(y_te) == 10
    np.testing.assert_array_equal(x_tr[:, 0], 2 * y_tr)
    np.testing.assert_array_equal(x_te[:, 0], 2 * y_te)
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == list(range(50))
    again = train_test_split(x, y, test_size=0.2, seed=0)
    np.testing.assert_array_equal(again[3], y_te)
    assert len(train_test_split(y, test_size=7, seed=0)[1]) == 7
    assert len(train_test_split(y, test_size=0.21, seed=0)[1]) == 11  # ceil, as scikit-learn
    _, te = train_test_split(y, test_size=0.1, shuffle=False)
    np.testing.assert_array_equal(te, np.arange(45, 50))


def test_train_test_split_stratify_keeps_proportions():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [600, 300, 100])
    rng.shuffle(y)
    x = np.arange(1000)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, stratify=y, seed=1)
    assert np.bincount(y_te).tolist() == [120, 60, 20]
    assert np.bincount(y_tr).tolist() == [480, 240, 80]
    np.testing.assert_array_equal(y[x_te], y_te)
    assert len(set(x_tr) & set(x_te)) == 0
    # uneven: 7 of 3 classes of 10, 5, 5 samples -> 3.5, 1.75, 1.75 -> 4, 2, 1 or 3, 2, 2 (sums to 7)
    y2 = np.repeat([0, 1, 2], [10, 5, 5])
    _, te = train_test_split(y2, test_size=7, stratify=y2, seed=0)
    counts = np.bincount(te, minlength=3)
    assert counts.sum() == 7 and all(abs(counts - np.array([3.5, 1.75, 1.75])) < 1)


def test_train_test_split_errors():
    with pytest.raises(ValueError, match="at least one"):
        train_test_split()
    with pytest.raises(ValueError, match="different lengths"):
        train_test_split(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(np.zeros(3), test_size=3)
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(np.zeros(3), test_size=0.0)


# ---------------------------------------------------------------- scalers


def test_standard_scaler():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((200, 3)) * [1, 5, 0.1] + [0, 10, -3]).astype(np.float32)
    x[:, 2] = 4.0  # a constant feature is left centred, not divided by zero
    sc = StandardScaler().fit(x)
    z = sc.transform(x)
    assert z.dtype == np.float32
    np.testing.assert_allclose(z[:, :2].mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z[:, :2].std(0), 1, rtol=1e-5)
    np.testing.assert_array_equal(z[:, 2], 0)
    np.testing.assert_allclose(sc.inverse_transform(z), x, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(StandardScaler().fit_transform(x), z)
    np.testing.assert_allclose(sc.mean_, x.mean(0), rtol=1e-6)
    zi = StandardScaler().fit_transform(np.array([[1], [2], [3]]))
    assert zi.dtype == np.float32
    np.testing.assert_allclose(zi[:, 0], [-1.2247449, 0, 1.2247449], rtol=1e-6)


def test_min_max_scaler():
    x = np.array([[1.0, -2.0, 5.0], [3.0, 2.0, 5.0], [2.0, 0.0, 5.0]])
    sc = MinMaxScaler().fit(x)
    z = sc.transform(x)
    np.testing.assert_allclose(z, [[0, 0, 0], [1, 1, 0], [0.5, 0.5, 0]])
    np.testing.assert_allclose(sc.inverse_transform(z), x)
    sc2 = MinMaxScaler(feature_range=(-1, 1))
    z2 = sc2.fit_transform(x)
    np.testing.assert_allclose(z2[:, :2], [[-1, -1], [1, 1], [0, 0]])
    np.testing.assert_allclose(sc2.inverse_transform(z2)[:, :2], x[:, :2])
    np.testing.assert_allclose(sc.transform(np.array([[5.0, 4.0, 5.0]])), [[2.0, 1.5, 0]])  # extrapolates


# ---------------------------------------------------------------- one-hot


def test_to_categorical_like_keras():
    y = np.array([0, 2, 1, 2])
    out = to_categorical(y)
    assert out.dtype == np.float32 and out.shape == (4, 3)
    np.testing.assert_array_equal(out, np.eye(3)[y])
    assert to_categorical(y, num_classes=5).shape == (4, 5)
    assert to_categorical(y.reshape(-1, 1)).shape == (4, 3)  # a trailing 1 is dropped, as Keras
    assert to_categorical(np.array([[0, 1], [1, 0]])).shape == (2, 2, 2)
    assert to_categorical(pf.tensor(y), dtype=np.int64).dtype == np.int64
    assert to_categorical(np.array([0.0, 1.0])).shape == (2, 2)
    with pytest.raises(ValueError, match="labels"):
        to_categorical(np.array([0, 3]), num_classes=3)
    with pytest.raises(ValueError, match="labels"):
        to_categorical(np.array([-1, 0]))
    with pytest.raises(ValueError, match="whole"):
        to_categorical(np.array([0.5]))


def test_one_hot_like_torch():
    torch = pytest.importorskip("torch")
    y = np.array([[0, 3], [1, 1]])
    got = one_hot(y)
    assert isinstance(got, pf.Tensor) and got.dtype == np.int64
    np.testing.assert_array_equal(got.numpy(), torch.nn.functional.one_hot(torch.tensor(y)).numpy())
    np.testing.assert_array_equal(one_hot(y, num_classes=6).numpy(),
                                  torch.nn.functional.one_hot(torch.tensor(y), num_classes=6).numpy())
    y1 = np.array([[2], [0]])
    assert one_hot(y1).shape == (2, 1, 3)  # no squeezing, as torch
    with pytest.raises(ValueError):
        one_hot(np.array([0, 4]), num_classes=3)


# ---------------------------------------------------------------- datasets


def test_digits():
    x, y = datasets.digits()
    assert x.shape == (1797, 64) and x.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    assert sorted(np.unique(y).tolist()) == list(range(10))
    assert np.bincount(y).min() >= 170
    xi, _ = datasets.digits(flatten=False, scale=False)
    assert xi.shape == (1797, 1, 8, 8) and xi.max() == 16.0
    np.testing.assert_array_equal(xi.reshape(1797, 64) / 16, x)
    x2, y2 = datasets.digits()
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)


def test_moons():
    x, y = datasets.moons(1000, 0.2, seed=42)
    assert x.shape == (1000, 2) and x.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [500, 500]
    x2, y2 = datasets.moons(1000, 0.2, seed=42)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    x3, _ = datasets.moons(1000, 0.2, seed=43)
    assert not np.array_equal(x, x3)
    # without noise the points lie on the two half circles of scikit-learn's make_moons
    xc, yc = datasets.moons(101, 0.0, seed=0)
    assert np.bincount(yc).tolist() == [50, 51]
    outer, inner = xc[yc == 0].astype(np.float64), xc[yc == 1].astype(np.float64)
    np.testing.assert_allclose(np.hypot(outer[:, 0], outer[:, 1]), 1, atol=1e-6)
    np.testing.assert_allclose(np.hypot(inner[:, 0] - 1, inner[:, 1] - 0.5), 1, atol=1e-6)
    assert (outer[:, 1] >= -1e-6).all() and (inner[:, 1] <= 0.5 + 1e-6).all()
    # the noise has the requested scale
    xn, yn = datasets.moons(4000, 0.2, seed=1)
    xo = xn[yn == 0].astype(np.float64)
    assert np.std(np.hypot(xo[:, 0], xo[:, 1]) - 1) == pytest.approx(0.2, rel=0.1)
    with pytest.raises(ValueError):
        datasets.moons(1)


def test_sine_windows():
    x, y = datasets.sine_windows(100, window=10, noise=0.0, seed=0)
    assert x.shape == (90, 10, 1) and y.shape == (90, 1) and x.dtype == np.float32 and y.dtype == np.float32
    t = np.arange(100)
    np.testing.assert_allclose(x[5, :, 0], np.sin(0.1 * t[5:15]), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(y[5, 0], np.sin(0.1 * 15), rtol=1e-6)
    xh, yh = datasets.sine_windows(100, window=10, noise=0.0, horizon=3)
    assert xh.shape == (88, 10, 1)
    np.testing.assert_allclose(yh[0, 0], np.sin(0.1 * 12), rtol=1e-6)
    xn, yn = datasets.sine_windows(200, noise=0.1, seed=3)
    np.testing.assert_array_equal(xn[1:, :-1], xn[:-1, 1:])  # consecutive windows overlap
    np.testing.assert_array_equal(yn[:-1, 0], xn[1:, -1, 0])  # the target is the next value
    xn2, _ = datasets.sine_windows(200, noise=0.1, seed=3)
    np.testing.assert_array_equal(xn, xn2)
    with pytest.raises(ValueError, match="too short"):
        datasets.sine_windows(10, window=10)
