"""pf.save / pf.load: npz trees (nesting, int keys, tuples, None, strings, numpy scalars),
safetensors (round trip and byte layout), errors, and atomic writes (a crash while writing
leaves the old file intact and no temporary file behind)."""

import json
import os
import struct
import zipfile

import numpy as np
import pytest

import pyfastnn as pf
from pyfastnn import serialization


def _same(a, b):
    """Deep equality where arrays come back as Tensors."""
    if isinstance(b, pf.Tensor):
        a = a.data if isinstance(a, pf.Tensor) else a
        assert isinstance(a, np.ndarray)
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b.numpy())
        return
    assert type(a) is type(b) or (isinstance(a, np.generic) and type(a.item()) is type(b)), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


def test_npz_nested_round_trip(tmp_path):
    obj = {
        "model": {"fc.weight": np.arange(6, dtype=np.float32).reshape(2, 3), "fc.bias": pf.tensor([1.0, 2.0])},
        "optimizer": {"state": {0: {"step": 3, "exp_avg": np.ones(3)}, 7: {}},
                      "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 7], "amsgrad": False,
                                        "name": None}]},
        "epoch": 5,
        "tuple": (1, "two", (3.0, None)),
        "strings": ["a", "", "ü"],
        "numbers": [1, -2, 3.5, float("inf"), float("nan"), True, False, 2**100],
        "none": None,
        "empty": {"list": [], "dict": {}, "tuple": ()},
        "arrays": [np.zeros((0, 3)), np.array(3.0), np.array([True, False]), np.arange(4, dtype=np.int64),
                   np.ones(2, np.float16), np.arange(3, dtype=np.uint8)],
        "$array": 1, "$dict": "not special",  # keys that look like the format's markers
    }
    pf.save(obj, tmp_path / "x.npz")
    back = pf.load(tmp_path / "x.npz")
    want = dict(obj)
    want["model"] = {"fc.weight": obj["model"]["fc.weight"], "fc.bias": obj["model"]["fc.bias"].data}
    _same(want, back)
    assert isinstance(back["model"]["fc.weight"], pf.Tensor)
    assert list(back["optimizer"]["state"]) == [0, 7] and isinstance(list(back["optimizer"]["state"])[0], int)
    assert isinstance(back["tuple"], tuple) and isinstance(back["tuple"][2], tuple)


def test_npz_numpy_scalars_and_keys(tmp_path):
    obj = {np.int64(3): np.float32(1.5), "b": np.bool_(True), "i": np.int32(-4), "f": np.float64(0.25)}
    pf.save(obj, tmp_path / "s.npz")
    back = pf.load(tmp_path / "s.npz")
    assert back == {3: 1.5, "b": True, "i": -4, "f": 0.25}
    assert type(back["b"]) is bool and type(back["i"]) is int and type(back[3]) is float


def test_npz_arrays_are_copies_in_c_order(tmp_path):
    a = np.arange(12, dtype=np.float64).reshape(3, 4).T  # Fortran-ordered view
    pf.save({"a": a}, tmp_path / "a.npz")
    back = pf.load(tmp_path / "a.npz")["a"].numpy()
    np.testing.assert_array_equal(back, a)
    assert back.flags.c_contiguous and back.flags.writeable


def test_npz_is_a_zip_with_npy_members(tmp_path):
    pf.save({"w": np.ones(3, np.float32)}, tmp_path / "w.npz")
    with zipfile.ZipFile(tmp_path / "w.npz") as z:
        assert sorted(z.namelist()) == ["0.npy", "__tree__.json"]
        tree = json.loads(z.read("__tree__.json"))
    assert tree == {"$dict": [["w", {"$array": 0}]]}


def test_model_state_dict_round_trip(tmp_path):
    model = pf.nn.Sequential(pf.nn.Linear(4, 3), pf.nn.ReLU(), pf.nn.Linear(3, 2))
    for ext in ("npz", "safetensors"):
        pf.save(model.state_dict(), tmp_path / f"m.{ext}")
        other = pf.nn.Sequential(pf.nn.Linear(4, 3), pf.nn.ReLU(), pf.nn.Linear(3, 2))
        other.load_state_dict(pf.load(tmp_path / f"m.{ext}"))
        for (k, v), (k2, v2) in zip(model.state_dict().items(), other.state_dict().items()):
            assert k == k2
            np.testing.assert_array_equal(v.numpy(), v2.numpy())


def test_save_weights_and_load_weights(tmp_path):
    model = pf.nn.Linear(3, 2)
    model.save_weights(tmp_path / "w.npz")
    other = pf.nn.Linear(3, 2)
    other.load_weights(tmp_path / "w.npz")
    np.testing.assert_array_equal(model.weight.numpy(), other.weight.numpy())


@pytest.mark.parametrize("bad", [{1, 2}, object(), lambda: 0, np.array([object()], dtype=object)],
                         ids=["set", "object", "function", "object-array"])
def test_npz_unsupported_values(tmp_path, bad):
    with pytest.raises((TypeError, ValueError)):
        pf.save({"x": bad}, tmp_path / "bad.npz")
    assert not os.path.exists(tmp_path / "bad.npz")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("key", [1.5, (1, 2), True, None], ids=["float", "tuple", "bool", "None"])
def test_npz_bad_keys(tmp_path, key):
    with pytest.raises(TypeError, match="keys"):
        pf.save({key: 1}, tmp_path / "k.npz")


# ---------------------------------------------------------------- safetensors


def test_safetensors_round_trip(tmp_path):
    sd = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([1.5, -2.0]), "c": np.array(7, np.int64),
          "d": np.array([[True, False]]), "e": np.ones((0, 4), np.float16), "f": np.arange(5, dtype=np.int32),
          "g": np.arange(3, dtype=np.uint8), "h": np.arange(3, dtype=np.int8), "i": np.arange(2, dtype=np.int16),
          "t": pf.tensor([[1.0, 2.0]])}
    pf.save(sd, tmp_path / "m.safetensors")
    back = pf.load(tmp_path / "m.safetensors")
    assert list(back) == list(sd)
    for k, v in sd.items():
        v = v.data if isinstance(v, pf.Tensor) else v
        assert back[k].dtype == v.dtype and back[k].shape == v.shape
        assert back[k].dtype is np.dtype(back[k].dtype.name)  # numpy's own dtype object
        np.testing.assert_array_equal(back[k].numpy(), v)
        assert back[k].numpy().flags.writeable


def test_safetensors_byte_layout(tmp_path):
    sd = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([1.0, 2.0], np.float64),
          "n": np.array([1, 2, 3], np.int64)}
    pf.save(sd, tmp_path / "m.safetensors")
    raw = (tmp_path / "m.safetensors").read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    assert (8 + n) % 8 == 0  # the data starts aligned
    header = json.loads(raw[8 : 8 + n].decode())
    assert header == {
        "w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
        "b": {"dtype": "F64", "shape": [2], "data_offsets": [24, 40]},
        "n": {"dtype": "I64", "shape": [3], "data_offsets": [40, 64]},
    }
    data = raw[8 + n :]
    assert len(data) == 64
    np.testing.assert_array_equal(np.frombuffer(data[0:24], "<f4").reshape(2, 3), sd["w"])
    np.testing.assert_array_equal(np.frombuffer(data[24:40], "<f8"), sd["b"])
    np.testing.assert_array_equal(np.frombuffer(data[40:64], "<i8"), sd["n"])


def test_safetensors_library_reads_and_writes_our_format(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    sd = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([1.0, 2.0]), "i": np.arange(3)}
    pf.save(sd, tmp_path / "ours.safetensors")
    theirs = st.load_file(str(tmp_path / "ours.safetensors"))
    for k in sd:
        np.testing.assert_array_equal(theirs[k], sd[k])
    st.save_file(sd, str(tmp_path / "theirs.safetensors"), metadata={"format": "np"})
    back = pf.load(tmp_path / "theirs.safetensors")
    assert set(back) == set(sd)
    for k in sd:
        np.testing.assert_array_equal(back[k].numpy(), sd[k])


def test_safetensors_metadata_is_skipped(tmp_path):
    header = json.dumps({"__metadata__": {"format": "pt"}, "x": {"dtype": "F32", "shape": [2],
                                                                 "data_offsets": [0, 8]}}).encode()
    header += b" " * (-len(header) % 8)
    path = tmp_path / "h.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + np.array([1, 2], "<f4").tobytes())
    back = pf.load(path)
    assert list(back) == ["x"]
    np.testing.assert_array_equal(back["x"].numpy(), [1, 2])


def test_safetensors_errors(tmp_path):
    with pytest.raises(TypeError, match="flat dict"):
        pf.save({"a": {"b": np.ones(2)}}.items(), tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="flat dict"):
        pf.save({0: np.ones(2)}, tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="complex"):
        pf.save({"z": np.ones(2, np.complex64)}, tmp_path / "x.safetensors")
    assert not os.path.exists(tmp_path / "x.safetensors")
    bf16 = tmp_path / "bf.safetensors"
    header = json.dumps({"x": {"dtype": "BF16", "shape": [1], "data_offsets": [0, 2]}}).encode()
    bf16.write_bytes(struct.pack("<Q", len(header)) + header + b"\0\0")
    with pytest.raises(ValueError, match="BF16"):
        pf.load(bf16)
    good = tmp_path / "good.safetensors"
    pf.save({"x": np.ones(100, np.float32)}, good)
    trunc = tmp_path / "trunc.safetensors"
    trunc.write_bytes(good.read_bytes()[:-10])
    with pytest.raises(ValueError, match="truncated"):
        pf.load(trunc)
    (tmp_path / "tiny.safetensors").write_bytes(b"abc")
    with pytest.raises(ValueError, match="safetensors"):
        pf.load(tmp_path / "tiny.safetensors")


# ---------------------------------------------------------------- load errors


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        pf.load(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="not a file written by pyfastnn.save"):
        pf.load(tmp_path / "junk.npz")
    np.savez(tmp_path / "plain.npz", a=np.ones(2))  # a numpy archive without our tree
    with pytest.raises(ValueError, match="not a file written by pyfastnn.save"):
        pf.load(tmp_path / "plain.npz")


def test_paths_may_be_str_or_pathlike(tmp_path):
    pf.save({"a": 1}, str(tmp_path / "s.npz"))
    assert pf.load(str(tmp_path / "s.npz")) == {"a": 1}
    assert pf.load(tmp_path / "s.npz") == {"a": 1}


# ---------------------------------------------------------------- atomic writes


def _temp_files(d):
    return [n for n in os.listdir(d) if n.startswith(".tmp-")]


@pytest.mark.parametrize("ext", ["npz", "safetensors"])
def test_crash_while_writing_keeps_the_old_file(tmp_path, monkeypatch, ext):
    path = tmp_path / f"ckpt.{ext}"
    pf.save({"w": np.ones(3, np.float32)}, path)
    before = path.read_bytes()

    writer = "_write_npz" if ext == "npz" else "_write_safetensors"
    real = getattr(serialization, writer)

    def crashing(obj, f):
        f.write(b"half a checkpoint")  # some bytes already reached the temporary file
        real(obj, f)
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(serialization, writer, crashing)
    with pytest.raises(KeyboardInterrupt):
        pf.save({"w": np.zeros(3, np.float32), "more": np.zeros(1000, np.float32)}, path)
    assert path.read_bytes() == before
    np.testing.assert_array_equal(pf.load(path)["w"].numpy(), np.ones(3))
    assert _temp_files(tmp_path) == []


def test_crash_on_rename_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    pf.save({"w": 1}, path)
    monkeypatch.setattr(serialization.os, "replace", lambda a, b: (_ for _ in ()).throw(OSError("disk gone")))
    with pytest.raises(OSError, match="disk gone"):
        pf.save({"w": 2}, path)
    monkeypatch.undo()
    assert pf.load(path) == {"w": 1}
    assert _temp_files(tmp_path) == []


def test_unsupported_object_error_leaves_no_file(tmp_path):
    path = tmp_path / "c.npz"
    pf.save({"epoch": 1}, path)
    with pytest.raises(TypeError):
        pf.save({"epoch": 2, "bad": {1, 2}}, path)
    assert pf.load(path) == {"epoch": 1}
    assert _temp_files(tmp_path) == []


def test_saved_file_has_normal_permissions(tmp_path):
    path = tmp_path / "p.npz"
    pf.save({"a": 1}, path)
    mask = os.umask(0)
    os.umask(mask)
    assert (os.stat(path).st_mode & 0o777) == (0o666 & ~mask)


def test_overwrite_replaces_content(tmp_path):
    path = tmp_path / "o.npz"
    pf.save({"a": np.ones(1000)}, path)
    pf.save({"b": 2}, path)
    assert pf.load(path) == {"b": 2}
