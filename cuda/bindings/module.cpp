// pyfastnn._cuda: the CUDA kernels. Arrays arrive as raw device pointers (CuPy's
// array.data.ptr) plus the current stream (cupy.cuda.get_current_stream().ptr); the Python
// side (pyfastnn/backends/cuda) checks shapes and dtypes and computes leading dimensions.
#include "common.h"
#include "pyfastnn_cuda/runtime.h"

namespace py = pybind11;
using namespace pybind11::literals;
namespace pc = pyfastnn::cuda;
namespace cb = pyfastnn::cuda_bind;

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "pyfastnn CUDA kernels";
  m.def("device_count", &pc::device_count, "number of visible GPUs (0 without a driver or GPU)");
  m.def("device_name", [](int device) {
    if (device < 0 || device >= pc::device_count())
      throw py::value_error("device_name: argument 'device' must be in [0, device_count()), got " +
                            std::to_string(device));
    return pc::device_name(device);
  });
  m.def("runtime_version", &pc::runtime_version, "CUDA runtime version the module was built with, e.g. 13000");
  m.def("last_error", &pc::last_error);
  m.def("compute_capability", &pc::device_compute_capability,
        "compute capability of the current device as major * 10 + minor (0 if unknown)");
  m.def("synchronize", []() { cb::run("synchronize", [] { return pc::synchronize(); }); },
        "wait for all work on the current device");
  m.def(
      "fill",
      [](std::uintptr_t ptr, int64_t n, float value, std::uintptr_t stream) {
        cb::check_nonneg("fill", "n", n);
        cb::check_ptr("fill", "ptr", ptr, n > 0);
        cb::run("fill", [&] { return pc::fill(reinterpret_cast<float*>(ptr), n, value, stream); });
      },
      "ptr"_a, "n"_a, "value"_a, "stream"_a = 0, "Fill n float32 values at device pointer ptr with value.");
  cb::bind_gemm(m);
  cb::bind_activation(m);
  cb::bind_softmax(m);
  cb::bind_dropout(m);
  cb::bind_optim(m);
}
