// pyfastnn._cuda: the CUDA kernels. Arrays arrive as raw device pointers (CuPy's
// array.data.ptr) plus the current stream (cupy.cuda.get_current_stream().ptr).
#include <pybind11/pybind11.h>

#include "pyfastnn_cuda/runtime.h"

namespace py = pybind11;
using namespace pybind11::literals;
namespace pc = pyfastnn::cuda;

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
  m.def(
      "fill",
      [](std::uintptr_t ptr, int64_t n, float value, std::uintptr_t stream) {
        if (n < 0) throw py::value_error("fill: argument 'n' must be >= 0, got " + std::to_string(n));
        if (n > 0 && ptr == 0) throw py::value_error("fill: argument 'ptr' is a null device pointer");
        bool ok;
        {
          py::gil_scoped_release release;
          ok = pc::fill(reinterpret_cast<float*>(ptr), n, value, stream);
        }
        if (!ok) throw std::runtime_error("fill: kernel launch failed: " + pc::last_error());
      },
      "ptr"_a, "n"_a, "value"_a, "stream"_a = 0, "Fill n float32 values at device pointer ptr with value.");
}
