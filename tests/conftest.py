import os

import numpy as np
import pytest

if os.environ.get("PYFASTNN_CUDA_EMULATOR"):  # the CUDA tests on the CPU emulator (tests/cuda_emu)
    from cuda_emu import install

    install()

import pyfastnn as pf
from pyfastnn.backends import cpu

ALL_ISAS = ["avx512", "avx2", "portable", "avx512_emulated"]


def _gpu_visible():
    try:
        from pyfastnn import _cuda
    except ImportError:
        return False
    return _cuda.device_count() > 0


def pytest_collection_modifyitems(config, items):
    if _gpu_visible():
        return
    skip = pytest.mark.skip(reason="needs an NVIDIA GPU and the pyfastnn._cuda module")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(params=ALL_ISAS)
def isa(request):
    """Each GEMM instruction set forced in turn (skipped where this CPU cannot run it)."""
    name = request.param
    if name not in cpu.supported_isas():
        pytest.skip(f"this CPU/build cannot run the {name} kernels")
    cpu.set_isa(name)
    yield name
    cpu.set_isa(None)


@pytest.fixture(params=[1, 2], ids=["1thread", "2threads"])
def threads(request):
    before = pf.get_num_threads()
    pf.set_num_threads(request.param)
    yield request.param
    pf.set_num_threads(before)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
