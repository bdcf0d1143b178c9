"""Compile cuda/*.cu and cuda/bindings/*.cpp with the CPU emulator headers into a module that
replaces pyfastnn._cuda, and install fakecupy as `cupy` (tests only)."""

import hashlib
import importlib.util
import os
import subprocess
import sys
import sysconfig
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CUDA = ROOT / "cuda"


def _sources():
    return sorted(CUDA.glob("*.cu")) + sorted((CUDA / "bindings").glob("*.cpp"))


def _digest():
    h = hashlib.sha256()
    for p in _sources() + sorted(CUDA.rglob("*.h")) + sorted(CUDA.glob("*.cuh")) + sorted((HERE / "include").glob("*")):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def build(verbose=False):
    """Path of the emulator module (built once per version of the sources)."""
    import pybind11

    out_dir = Path(os.environ.get("PYFASTNN_CUDA_EMULATOR_CACHE", "/tmp/pyfastnn-cuda-emulator")) / _digest()
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    target = out_dir / f"_cuda{suffix}"
    if target.exists():
        return target
    out_dir.mkdir(parents=True, exist_ok=True)
    flags = ["-std=c++17", "-O2", "-fPIC", "-w", f"-I{HERE / 'include'}", f"-I{CUDA / 'include'}", f"-I{CUDA}",
             f"-I{pybind11.get_include()}", f"-I{sysconfig.get_paths()['include']}"]

    def compile_one(src):
        obj = out_dir / (src.name + ".o")
        lang = ["-x", "c++"] if src.suffix == ".cu" else []
        cmd = ["g++", *flags, *lang, "-c", str(src), "-o", str(obj)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError(f"emulator build failed for {src.name}:\n{r.stderr[-4000:]}")
        return obj

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        objs = list(pool.map(compile_one, _sources()))
    tmp = out_dir / f"_cuda.tmp{os.getpid()}{suffix}"
    r = subprocess.run(["g++", "-shared", "-o", str(tmp), *map(str, objs)], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"emulator link failed:\n{r.stderr[-4000:]}")
    os.replace(tmp, target)
    return target


def install():
    """Make `import cupy` give fakecupy and pyfastnn._cuda the emulator build. Call before
    pyfastnn imports either."""
    from . import fakecupy

    sys.modules["cupy"] = fakecupy
    path = build()
    spec = importlib.util.spec_from_file_location("pyfastnn._cuda", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    sys.modules["pyfastnn._cuda"] = mod
    import pyfastnn

    pyfastnn._cuda = mod
    return mod
