"""Image transforms: exact results on hand-checked cases, per-image randomness in batches,
seeding through pf.manual_seed or a generator, and clear errors."""

import numpy as np
import pytest

import pyfastnn as pf
from pyfastnn.data.transforms import Compose, Normalize, RandomCrop, RandomHorizontalFlip, ToTensor


def images(n=None, c=2, h=5, w=6, seed=0):
    rng = np.random.default_rng(seed)
    shape = (c, h, w) if n is None else (n, c, h, w)
    return rng.integers(0, 256, shape).astype(np.uint8)


def test_to_tensor():
    x = np.array([[0, 51], [102, 255]], np.uint8)
    out = ToTensor()(x)
    assert out.shape == (1, 2, 2) and out.dtype == np.float32
    np.testing.assert_allclose(out[0], [[0, 0.2], [0.4, 1.0]], rtol=1e-6)
    batch = ToTensor()(images(4))
    assert batch.shape == (4, 2, 5, 6) and batch.max() <= 1.0
    f = np.full((1, 2, 2), 3.5)
    np.testing.assert_array_equal(ToTensor()(f), f.astype(np.float32))  # floats are not rescaled
    np.testing.assert_allclose(ToTensor()(pf.tensor(np.full((1, 2, 2), 255, np.uint8))), 1.0)


def test_normalize_per_channel():
    x = np.stack([np.full((2, 2), 1.0), np.full((2, 2), 3.0)]).astype(np.float32)
    out = Normalize([0.5, 1.0], [0.5, 4.0])(x)
    np.testing.assert_allclose(out[0], 1.0)  # (1 - 0.5) / 0.5
    np.testing.assert_allclose(out[1], 0.5)  # (3 - 1) / 4
    batch = np.stack([x, 2 * x])
    np.testing.assert_allclose(Normalize([0.5, 1.0], [0.5, 4.0])(batch)[1, 1], 1.25)  # (6 - 1) / 4
    np.testing.assert_allclose(Normalize(0.5, 0.25)(x)[1], 10.0)  # one value for every channel
    with pytest.raises(ValueError, match="std must not contain 0"):
        Normalize(0.0, [1.0, 0.0])
    with pytest.raises(ValueError, match="mean has 3 values for 2 channels"):
        Normalize([0.1, 0.2, 0.3], 1.0)(x)


def test_horizontal_flip():
    x = images()
    np.testing.assert_array_equal(RandomHorizontalFlip(p=1.0)(x), x[:, :, ::-1])
    np.testing.assert_array_equal(RandomHorizontalFlip(p=0.0)(x), x)
    batch = images(400)
    out = RandomHorizontalFlip(p=0.5, generator=3)(batch)
    flipped = np.array([np.array_equal(o, b[:, :, ::-1]) for o, b in zip(out, batch)])
    same = np.array([np.array_equal(o, b) for o, b in zip(out, batch)])
    assert np.all(flipped | same)  # every image is either mirrored or untouched
    assert 150 < flipped.sum() < 250  # independently per image, about half
    with pytest.raises(ValueError, match="p must be in"):
        RandomHorizontalFlip(p=1.5)


def windows(padded, th, tw):
    h, w = padded.shape[-2:]
    return [(i, j) for i in range(h - th + 1) for j in range(w - tw + 1)]


def test_random_crop_cuts_windows_of_the_padded_image():
    x = images(c=1, h=4, w=4)
    assert np.array_equal(RandomCrop(4)(x), x)  # no padding, full size: the image itself
    batch = images(200, c=2, h=4, w=4)
    out = RandomCrop(4, padding=1, generator=0)(batch)
    assert out.shape == (200, 2, 4, 4)
    seen = set()
    for o, b in zip(out, batch):
        padded = np.pad(b, ((0, 0), (1, 1), (1, 1)))
        hits = [(i, j) for i, j in windows(padded, 4, 4) if np.array_equal(padded[:, i:i + 4, j:j + 4], o)]
        assert hits, "every output is a 4x4 window of its zero-padded image (all channels alike)"
        seen.add(hits[0])
    assert len(seen) == 9  # all 3x3 offsets occur
    single = RandomCrop((2, 3), generator=1)(images(c=3, h=4, w=5))
    assert single.shape == (3, 2, 3)
    with pytest.raises(ValueError, match="larger than the padded image"):
        RandomCrop(7, padding=1)(x)
    with pytest.raises(ValueError, match=r"expected an image \(C, H, W\)"):
        RandomCrop(2)(np.zeros((4, 4)))


def test_random_transforms_follow_the_global_seed():
    batch = images(16)
    t = Compose([RandomCrop(5, padding=2), RandomHorizontalFlip()])
    pf.manual_seed(7)
    a = t(batch)
    pf.manual_seed(7)
    b = t(batch)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(t(batch), a)  # the next draw differs
    g1 = RandomCrop(5, padding=2, generator=11)(batch)
    g2 = RandomCrop(5, padding=2, generator=np.random.default_rng(11))(batch)
    np.testing.assert_array_equal(g1, g2)


def test_compose():
    t = Compose([ToTensor(), Normalize(0.5, 0.5)])
    assert t.batched
    x = images(c=1)
    np.testing.assert_allclose(t(x), (x / 255.0 - 0.5) / 0.5, rtol=1e-5, atol=1e-6)
    assert not Compose([ToTensor(), lambda v: v]).batched  # a plain function may not take batches
    assert "Normalize" in repr(t)
    with pytest.raises(TypeError, match="callable"):
        Compose([ToTensor(), 3])
