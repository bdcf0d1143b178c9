"""pf.save / pf.load: state dicts and checkpoints on disk, written atomically.

Two formats, chosen by the file name:
- .npz (default): any nesting of dicts (str or int keys), lists, tuples, arrays/Tensors,
  numbers, strings, bools and None — model and optimizer state, epoch, RNG state.
- .safetensors: a flat {name: array} state dict, readable by the safetensors library.
A write goes to a temporary file in the same directory that is then renamed over the
target, so a crash never leaves a half-written checkpoint.
"""

import io
import json
import os
import struct
import tempfile
import zipfile

import numpy as np

from .tensor import Tensor

__all__ = ["save", "load"]


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic_write(path, write):
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.basename(path), dir=directory)
    try:
        # mkstemp makes the file private (0600); give it the mode a plain open() would
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# ---- npz: a JSON tree whose leaves point at arrays in the archive ----
def _encode(obj, arrays):
    if isinstance(obj, Tensor):
        obj = obj.data if obj.device == "cpu" else obj.data.get()
    if hasattr(obj, "detach") and hasattr(obj, "numpy"):  # a torch tensor
        obj = obj.detach().cpu().numpy()
    if isinstance(obj, np.ndarray):
        arrays.append(obj)
        return {"$array": len(arrays) - 1}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {"$dict": [[_encode_key(k), _encode(v, arrays)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"$tuple": [_encode(v, arrays) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v, arrays) for v in obj]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"save: cannot store an object of type {type(obj).__name__} "
                    "(supported: dicts, lists, tuples, arrays/Tensors, numbers, strings, None)")


def _encode_key(k):
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (str, int, np.integer)):
        raise TypeError(f"save: dict keys must be str or int, got {type(k).__name__}")
    return k if isinstance(k, str) else {"$int": int(k)}


def _decode(node, arrays):
    if isinstance(node, list):
        return [_decode(v, arrays) for v in node]
    if isinstance(node, dict):
        if "$array" in node:
            return Tensor._wrap(arrays[node["$array"]])
        if "$tuple" in node:
            return tuple(_decode(v, arrays) for v in node["$tuple"])
        if "$dict" in node:
            return {(k["$int"] if isinstance(k, dict) else k): _decode(v, arrays) for k, v in node["$dict"]}
    return node


def _write_npz(obj, f):
    arrays = []
    tree = _encode(obj, arrays)
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as z:
        z.writestr("__tree__.json", json.dumps(tree))
        for i, a in enumerate(arrays):
            buf = io.BytesIO()
            np.save(buf, np.asarray(a, order="C"), allow_pickle=False)  # (ascontiguousarray makes 0-d 1-d)
            z.writestr(f"{i}.npy", buf.getvalue())


def _read_npz(path):
    with zipfile.ZipFile(path) as z:
        tree = json.loads(z.read("__tree__.json"))
        names = sorted((n for n in z.namelist() if n.endswith(".npy")), key=lambda n: int(n[:-4]))
        arrays = [np.load(io.BytesIO(z.read(n)), allow_pickle=False) for n in names]
    return _decode(tree, arrays)


# ---- safetensors: 8-byte little-endian header size, JSON header, raw data ----
_ST_DTYPES = {"float32": "F32", "float64": "F64", "float16": "F16", "int64": "I64", "int32": "I32", "int16": "I16",
              "int8": "I8", "uint8": "U8", "bool": "BOOL"}
_ST_BACK = {v: k for k, v in _ST_DTYPES.items()}


def _write_safetensors(obj, f):
    if not isinstance(obj, dict) or not all(isinstance(k, str) for k in obj):
        raise TypeError("save: a .safetensors file holds a flat dict of name -> array (a state dict); "
                        "use .npz for checkpoints with nested state")
    header, blobs, offset = {}, [], 0
    for name, v in obj.items():
        a = v.data if isinstance(v, Tensor) else np.asarray(v)
        if a.dtype.name not in _ST_DTYPES:
            raise TypeError(f"save: dtype {a.dtype} of '{name}' cannot be stored in safetensors")
        raw = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _ST_DTYPES[a.dtype.name], "shape": list(a.shape), "data_offsets": [offset,
                                                                                                    offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    f.write(struct.pack("<Q", len(head)))
    f.write(head)
    for b in blobs:
        f.write(b)


def _read_safetensors(path):
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ValueError(f"load: {path!r} is not a safetensors file (shorter than its 8-byte header size)")
        (n,) = struct.unpack("<Q", head)
        try:
            header = json.loads(f.read(n))
        except (ValueError, UnicodeDecodeError):
            raise ValueError(f"load: {path!r} is not a safetensors file (its header is not JSON)") from None
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info.get("dtype") not in _ST_BACK:
            raise ValueError(f"load: '{name}' in {path!r} has dtype {info.get('dtype')!r}, which pyfastnn cannot "
                             f"read (supported: {', '.join(sorted(_ST_BACK))})")
        lo, hi = info["data_offsets"]
        if hi > len(data):
            raise ValueError(f"load: {path!r} is truncated: '{name}' ends at byte {hi} of a {len(data)}-byte data "
                             "section")
        native = np.dtype(_ST_BACK[info["dtype"]])  # numpy's own dtype object (the kernels check identity)
        a = np.frombuffer(data[lo:hi], dtype=native.newbyteorder("<"))
        out[name] = Tensor._wrap(a.reshape(info["shape"]).astype(native, copy=True))
    return out


def save(obj, path):
    """Write obj (a state dict, or any nesting of dicts/lists/arrays/numbers) to path."""
    if os.fspath(path).endswith(".safetensors"):
        _atomic_write(path, lambda f: _write_safetensors(obj, f))
    else:
        _atomic_write(path, lambda f: _write_npz(obj, f))


def load(path):
    """Read what save wrote; arrays come back as Tensors."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file: {path!r}")
    if path.endswith(".safetensors"):
        return _read_safetensors(path)
    try:
        return _read_npz(path)
    except (zipfile.BadZipFile, KeyError):
        raise ValueError(f"load: {path!r} is not a file written by pyfastnn.save (npz with a __tree__)") from None
