"""The CUDA module: built when nvcc was found; its kernels run only where a GPU is visible."""

import shutil

import numpy as np
import pytest

from pyfastnn.config import cuda_status


def test_cuda_module_built_when_nvcc_is_available():
    built, count, names, note = cuda_status()
    if shutil.which("nvcc") is None:
        pytest.skip("no nvcc on this machine: the CPU-only build is expected")
    assert built, note
    from pyfastnn import _cuda

    assert _cuda.runtime_version() >= 11000
    assert count == _cuda.device_count() and len(names) == count
    with pytest.raises(ValueError, match=r"device_name: argument 'device' must be in \[0, device_count\(\)\)"):
        _cuda.device_name(count)


@pytest.mark.cuda
def test_fill_kernel_on_gpu():
    cupy = pytest.importorskip("cupy")
    from pyfastnn import _cuda

    x = cupy.zeros(1000, dtype=cupy.float32)
    _cuda.fill(x.data.ptr, x.size, 2.5, cupy.cuda.get_current_stream().ptr)
    np.testing.assert_array_equal(cupy.asnumpy(x), np.full(1000, 2.5, np.float32))
    with pytest.raises(ValueError, match="null device pointer"):
        _cuda.fill(0, 10, 1.0)
