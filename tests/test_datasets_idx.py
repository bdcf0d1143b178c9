"""IDX files (MNIST's format) and the MNIST/Fashion-MNIST datasets, on tiny files written here
(plain and gzipped); the real Fashion-MNIST when Debian's dataset-fashion-mnist is installed."""

import gzip
import io
import os
import struct
import urllib.error

import numpy as np
import pytest

import pyfastnn as pf
from pyfastnn.data import DataLoader, mnist, transforms
from pyfastnn.data.datasets import MNIST, FashionMNIST
from pyfastnn.data.idx import read_idx, write_idx

DEBIAN = "/usr/share/datasets/fashion-mnist"


def idx_bytes(code, fmt, shape, values):
    """An IDX file built by hand from the format's definition (not with write_idx)."""
    head = bytes([0, 0, code, len(shape)]) + struct.pack(">" + "I" * len(shape), *shape)
    return head + struct.pack(">" + fmt * len(values), *values)


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_read_idx_hand_built_files(tmp_path, gz):
    cases = [(0x08, "B", (2, 3), [0, 1, 2, 253, 254, 255], np.uint8),
             (0x0C, "i", (4,), [1, -2, 70000, -2**31], np.int32),
             (0x0D, "f", (2, 2), [0.5, -1.25, 3.0, 1e-3], np.float32),
             (0x0B, "h", (3,), [-300, 0, 300], np.int16)]
    for code, fmt, shape, values, dtype in cases:
        raw = idx_bytes(code, fmt, shape, values)
        path = tmp_path / f"x{code}.idx"
        path.write_bytes(gzip.compress(raw) if gz else raw)
        a = read_idx(path)
        assert a.dtype == dtype and a.shape == shape
        np.testing.assert_array_equal(a, np.array(values, dtype).reshape(shape))


@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_write_idx_matches_the_format(tmp_path, name):
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(a, tmp_path / name)
    data = (tmp_path / name).read_bytes()
    if name.endswith(".gz"):
        assert data[:2] == b"\x1f\x8b"
        data = gzip.decompress(data)
    assert data == idx_bytes(0x08, "B", (2, 3, 4), a.ravel().tolist())
    np.testing.assert_array_equal(read_idx(tmp_path / name), a)
    f = np.linspace(-1, 1, 6).reshape(2, 3)
    write_idx(f, tmp_path / "f.idx")
    np.testing.assert_array_equal(read_idx(tmp_path / "f.idx"), f)


def test_read_idx_rejects_bad_files(tmp_path):
    (tmp_path / "bad").write_bytes(b"PK\x03\x04 not idx")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(tmp_path / "bad")
    (tmp_path / "code").write_bytes(bytes([0, 0, 0x42, 1, 0, 0, 0, 1, 7]))
    with pytest.raises(ValueError, match="unknown IDX type code 0x42"):
        read_idx(tmp_path / "code")
    (tmp_path / "short").write_bytes(idx_bytes(0x08, "B", (2, 2), [1, 2, 3, 4])[:-1])
    with pytest.raises(ValueError, match="promises 4"):
        read_idx(tmp_path / "short")
    with pytest.raises(TypeError, match="no IDX type code"):
        write_idx(np.zeros(3, np.complex64), tmp_path / "c.idx")


def write_split(folder, train, n, gz=True, seed=0):
    """n tiny 6x5 images and labels in MNIST's file names."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 6, 5), dtype=np.uint8)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    stem = "train" if train else "t10k"
    ext = ".gz" if gz else ""
    os.makedirs(folder, exist_ok=True)
    write_idx(images, os.path.join(folder, f"{stem}-images-idx3-ubyte{ext}"))
    write_idx(labels, os.path.join(folder, f"{stem}-labels-idx1-ubyte{ext}"))
    return images, labels


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
def test_dataset_from_root(tmp_path, gz):
    images, labels = write_split(tmp_path, True, 7, gz)
    test_images, _ = write_split(tmp_path, False, 3, gz, seed=1)
    ds = FashionMNIST(root=tmp_path)
    assert len(ds) == 7 and ds.data.dtype == np.uint8 and ds.targets.dtype == np.int64
    np.testing.assert_array_equal(ds.data, images)
    np.testing.assert_array_equal(ds.targets, labels)
    x, y = ds[4]
    assert x.shape == (1, 6, 5) and x.dtype == np.float32
    np.testing.assert_allclose(x.numpy(), images[4][None] / 255.0, rtol=1e-6)
    assert int(y.item()) == labels[4]
    xa, ya = ds.arrays()
    assert xa.shape == (7, 1, 6, 5) and xa.min() >= 0 and xa.max() <= 1
    np.testing.assert_allclose(xa[:, 0] * 255, images, atol=1e-4)
    assert ds.arrays(flatten=True)[0].shape == (7, 30)
    np.testing.assert_array_equal(FashionMNIST(root=tmp_path, train=False).data, test_images)


def test_torchvision_layout_and_data_home(tmp_path, monkeypatch):
    images, _ = write_split(tmp_path / "MNIST" / "raw", True, 4)
    np.testing.assert_array_equal(MNIST(root=tmp_path).data, images)
    monkeypatch.setenv("PYFASTNN_DATA", str(tmp_path / "cache"))
    assert mnist.data_home() == str(tmp_path / "cache")
    cached, _ = write_split(tmp_path / "cache" / "mnist", True, 5, gz=False)
    np.testing.assert_array_equal(MNIST(download=False).data, cached)


def test_data_loader_batches_with_transforms(tmp_path):
    images, labels = write_split(tmp_path, True, 10)
    t = transforms.Compose([transforms.ToTensor(), transforms.Normalize(0.5, 0.25)])
    ds = FashionMNIST(root=tmp_path, transform=t)
    batches = list(DataLoader(ds, batch_size=4))
    assert [len(b[0]) for b in batches] == [4, 4, 2]
    x = np.concatenate([b[0].numpy() for b in batches])
    np.testing.assert_allclose(x, (images[:, None] / 255.0 - 0.5) / 0.25, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in batches]), labels)
    # a transform that takes single images only: the loader goes sample by sample
    single = FashionMNIST(root=tmp_path, transform=lambda img: img[0].astype(np.float32).T)
    assert single.take([0, 1]) is None
    xb, yb = next(iter(DataLoader(single, batch_size=3)))
    assert xb.shape == (3, 5, 6)
    np.testing.assert_array_equal(xb.numpy()[1], images[1].T)


def test_missing_files_say_how_to_get_them(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError) as e:
        FashionMNIST(root=tmp_path)
    msg = str(e.value)
    assert str(tmp_path) in msg and "apt install dataset-fashion-mnist" in msg and "root=" in msg
    assert "train-images-idx3-ubyte" in msg
    monkeypatch.setenv("PYFASTNN_DATA", str(tmp_path / "cache"))
    monkeypatch.setattr(mnist, "DEBIAN_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="download=False"):
        FashionMNIST(download=False)

    calls = []

    def offline(url, timeout=None):
        calls.append((url, timeout))
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(mnist.urllib.request, "urlopen", offline)
    with pytest.raises(FileNotFoundError, match="Downloading failed") as e:
        MNIST(train=False)
    assert "no network" in str(e.value)
    assert calls and all(t is not None and t <= 30 for _, t in calls)  # never waits forever
    assert not os.listdir(tmp_path / "cache" / "mnist")  # no partial files left behind


def test_download_into_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PYFASTNN_DATA", str(tmp_path / "cache"))
    monkeypatch.setattr(mnist, "DEBIAN_DIR", str(tmp_path / "nowhere"))
    served = {"t10k-images-idx3-ubyte.gz": np.full((2, 3, 3), 7, np.uint8),
              "t10k-labels-idx1-ubyte.gz": np.array([3, 9], np.uint8)}

    def fake(url, timeout=None):
        buf = io.BytesIO()
        name = url.rsplit("/", 1)[1]
        with gzip.GzipFile(fileobj=buf, mode="wb") as f:
            f.write(bytes([0, 0, 8, served[name].ndim]) + np.asarray(served[name].shape, ">u4").tobytes()
                    + served[name].tobytes())
        buf.seek(0)
        return buf

    monkeypatch.setattr(mnist.urllib.request, "urlopen", fake)
    ds = MNIST(train=False)
    np.testing.assert_array_equal(ds.targets, [3, 9])
    assert sorted(os.listdir(tmp_path / "cache" / "mnist")) == sorted(served)
    monkeypatch.setattr(mnist.urllib.request, "urlopen", None)  # the second time reads the cache
    np.testing.assert_array_equal(MNIST(train=False).data, served["t10k-images-idx3-ubyte.gz"])


@pytest.mark.skipif(not os.path.isdir(DEBIAN), reason="Fashion-MNIST not installed (apt install dataset-fashion-mnist)")
def test_real_fashion_mnist(monkeypatch, tmp_path):
    monkeypatch.setenv("PYFASTNN_DATA", str(tmp_path))  # an empty cache: found in Debian's folder
    train, test = FashionMNIST(), FashionMNIST(train=False)
    assert train.data.shape == (60000, 28, 28) and train.targets.shape == (60000,)
    assert test.data.shape == (10000, 28, 28) and test.targets.shape == (10000,)
    # Fashion-MNIST is balanced: 6000 training and 1000 test images per class
    np.testing.assert_array_equal(np.bincount(train.targets), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(test.targets), [1000] * 10)
    assert train.data.max() == 255 and train.data.min() == 0
    assert len(FashionMNIST.classes) == 10 and FashionMNIST.classes[9] == "Ankle boot"
    x, y = next(iter(DataLoader(train, batch_size=64, shuffle=True, generator=0)))
    assert x.shape == (64, 1, 28, 28) and x.dtype == pf.float32 and y.shape == (64,)
