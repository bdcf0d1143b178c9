"""The IDX file format of MNIST and Fashion-MNIST (LeCun's "idx3-ubyte"), plain or gzipped.

Layout: two zero bytes, a type byte, a byte with the number of dimensions, each dimension as
a big-endian uint32, then the values, big-endian, row-major."""

import gzip
import os

import numpy as np

__all__ = ["read_idx", "write_idx"]

# type byte -> big-endian numpy dtype
_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_CODES = {np.dtype(v).newbyteorder("=").str[1:]: k for k, v in _TYPES.items()}


def _open(path):
    with open(path, "rb") as f:
        gzipped = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gzipped else open(path, "rb")


def read_idx(path):
    """The array stored in an IDX file (gzipped or not; told apart by content, not name),
    in native byte order (uint8 images and labels stay uint8)."""
    path = os.fspath(path)
    with _open(path) as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"read_idx: {path} is not an IDX file (bad magic number {raw[:4].hex() or 'empty'})")
    code, ndim = raw[2], raw[3]
    if code not in _TYPES:
        raise ValueError(f"read_idx: {path} has unknown IDX type code 0x{code:02x}; expected one of "
                         f"{', '.join(f'0x{c:02x}' for c in _TYPES)}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"read_idx: {path} is truncated (header of {ndim} dimensions needs {header} bytes)")
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", ndim, 4))
    dtype = np.dtype(_TYPES[code])
    count = int(np.prod(shape, dtype=np.int64))
    if len(raw) - header != count * dtype.itemsize:
        raise ValueError(f"read_idx: {path} holds {len(raw) - header} data bytes, the header {shape} promises "
                         f"{count * dtype.itemsize}")
    return np.frombuffer(raw, dtype, count, header).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(array, path, compress=None):
    """Write an array as IDX (uint8, int8, int16, int32, float32, float64); gzipped when
    `compress`, which defaults to whether the path ends in .gz."""
    a = np.ascontiguousarray(array)
    key = a.dtype.newbyteorder("=").str[1:]
    if key not in _CODES:
        raise TypeError(f"write_idx: dtype {a.dtype} has no IDX type code; use uint8, int8, int16, int32, float32 "
                        "or float64")
    if a.ndim > 255:
        raise ValueError(f"write_idx: at most 255 dimensions, got {a.ndim}")
    path = os.fspath(path)
    head = bytes([0, 0, _CODES[key], a.ndim]) + np.asarray(a.shape, ">u4").tobytes()
    body = a.astype(_TYPES[_CODES[key]]).tobytes()
    compress = path.endswith(".gz") if compress is None else compress
    with (gzip.open(path, "wb") if compress else open(path, "wb")) as f:
        f.write(head + body)
