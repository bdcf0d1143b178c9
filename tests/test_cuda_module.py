"""The CUDA module: built when nvcc was found; its kernels run only where a GPU is visible."""

import shutil

import numpy as np
import pytest

from pyfastnn import _C
from pyfastnn.config import cuda_status


def test_cuda_module_matches_the_build_configuration():
    built, count, names, note = cuda_status()
    info = _C.build_info
    assert built == info["cuda_built"], note
    if info["cuda_mode"] == "AUTO" and shutil.which("nvcc"):
        assert built, "nvcc is on PATH, so PYFASTNN_CUDA=AUTO must build pyfastnn._cuda"
    if not built:
        pytest.skip(f"pyfastnn._cuda not built (PYFASTNN_CUDA={info['cuda_mode']})")
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
