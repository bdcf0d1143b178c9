"""The device layer where there is no GPU (these run everywhere): what pf.cuda reports, the
errors that say what is missing and how to install it, the flags that can be set without
CuPy, and the device-mixing check."""

import sys

import numpy as np
import pytest

import pyfastnn as pf
from pyfastnn import cuda as pfcuda
from pyfastnn.ops.device import check_same_device, device_name


class _NoGPU:
    """A pyfastnn._cuda stand-in that sees no device."""

    @staticmethod
    def device_count():
        return 0

    @staticmethod
    def last_error():
        return "no CUDA-capable device is detected"


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(pfcuda, "_ready", False)
    monkeypatch.setattr(pfcuda, "_module", lambda: _NoGPU)


@pytest.fixture
def no_cupy(monkeypatch):
    monkeypatch.setattr(pfcuda, "_ready", False)
    monkeypatch.setitem(sys.modules, "cupy", None)  # import cupy -> ImportError


def test_is_available_is_false_without_a_gpu(no_gpu):
    assert pf.cuda.is_available() is False
    assert pf.cuda.device_count() == 0


def test_cuda_tensor_without_gpu_says_so_and_how_to_install(no_gpu):
    with pytest.raises(RuntimeError, match=r"no NVIDIA GPU is visible \(CUDA runtime: no CUDA-capable device"):
        pf.tensor([1.0, 2.0], device="cuda")
    with pytest.raises(RuntimeError, match=r"pip install 'pyfastnn\[cuda\]'"):
        pf.zeros(3).cuda()
    with pytest.raises(RuntimeError, match="CUDA devices are not available"):
        pf.cuda.synchronize()
    with pytest.raises(RuntimeError, match="CUDA tensors are not available"):
        pf.nn.Linear(2, 2).to("cuda")


def test_cuda_tensor_without_cupy_names_the_extra(no_cupy, monkeypatch):
    monkeypatch.setattr(pf.backends.cuda, "_loaded", False)
    with pytest.raises(RuntimeError, match=r"CuPy is not installed.*pip install 'pyfastnn\[cuda\]' \(cupy-cuda13x"):
        pf.ones(2, device="cuda")
    with pytest.raises(RuntimeError, match="CUDA kernels are not available: CuPy is not installed"):
        pf.backends.cuda._load()


def test_without_the_cuda_module(monkeypatch):
    monkeypatch.setattr(pfcuda, "_ready", False)
    monkeypatch.setattr(pfcuda, "_module", lambda: None)
    assert pf.cuda.device_count() == 0
    with pytest.raises(RuntimeError, match="pyfastnn was built without its CUDA kernels"):
        pf.tensor([1.0], device="cuda")


def test_unknown_devices_are_value_errors():
    with pytest.raises(ValueError, match="to: unknown device 'tpu'; expected 'cpu' or 'cuda'"):
        pf.ones(2).to("tpu")
    with pytest.raises(ValueError, match="unknown device 'mps'"):
        pf.zeros(2, device="mps")
    assert device_name("cuda:1") == "cuda" and device_name("cpu") == "cpu"
    assert pf.ones(2).to("cpu").device == "cpu"


def test_backend_flags_work_without_cupy(no_cupy):
    flags = pf.backends.cuda.matmul
    assert flags.allow_tf32 is False and flags.allow_bf16 is False and flags.precision() == "fp32"
    flags.allow_tf32 = True
    try:
        assert flags.precision() == "tf32"
        flags.allow_bf16 = True
        assert flags.precision() == "bf16"
    finally:
        flags.allow_tf32 = flags.allow_bf16 = False
    with pytest.raises(AttributeError):
        flags.allow_fp8 = True  # a typo is not silently accepted
    with pytest.raises(AttributeError):
        pf.backends.cuda.no_such_function  # noqa: B018


class _DeviceArray:
    """Anything with __cuda_array_interface__ counts as a GPU array."""

    shape = (3,)
    __cuda_array_interface__ = {}


def test_check_same_device_names_the_op_and_arguments():
    check_same_device("add", [("a", np.ones(3)), ("b", np.ones(3)), ("c", None), ("d", 2.0)])
    check_same_device("add", [("a", _DeviceArray()), ("b", _DeviceArray())])
    with pytest.raises(ValueError, match=r"linear: expected all tensors on the same device, got 'input' on cpu, "
                                         r"'weight' on cuda"):
        check_same_device("linear", [("input", np.ones(3)), ("weight", _DeviceArray())])


def test_cpu_path_does_not_load_cupy_or_the_cuda_module():
    import subprocess

    code = ("import sys, pyfastnn as pf; from pyfastnn import nn; m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), "
            "nn.Linear(4, 2)); o = pf.optim.Adam(m.parameters()); l = nn.functional.cross_entropy(m(pf.randn(5, 3)), "
            "pf.tensor([0, 1, 0, 1, 1])); l.backward(); o.step(); "
            "print('cupy' in sys.modules, 'pyfastnn._cuda' in sys.modules, pf.backends.cuda.is_loaded())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False", "False"]


def test_cuda_module_imports_when_built():
    from pyfastnn.config import cuda_status

    built, count, names, note = cuda_status()
    if not built:
        pytest.skip(note)
    from pyfastnn import _cuda

    for name in ("gemm", "linear_forward", "linear_backward", "activation_forward", "activation_backward",
                 "softmax_xent_forward", "softmax_xent_backward", "dropout_forward", "adam_step", "sgd_step"):
        assert callable(getattr(_cuda, name)), name
    with pytest.raises(ValueError, match="adam_step: argument 'grads' must have 1 entries"):
        _cuda.adam_step("float32", [1], [], [1], [1], None, [1], [1.0], 1e-3, 0.9, 0.999, 1e-8, 0.0, False, False,
                        False)
    with pytest.raises(ValueError, match="dropout_forward: dropout probability has to be between 0 and 1"):
        _cuda.dropout_forward("float32", 1, 1, 1, 1.5, 0)
    with pytest.raises(ValueError, match="argument 'dtype' must be 'float32' or 'float64', got 'float16'"):
        _cuda.activation_forward("relu", "float16", 1, 1, 1)
