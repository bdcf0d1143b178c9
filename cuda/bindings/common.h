// Shared helpers of the CUDA bindings: the kernels take raw device pointers (CuPy's
// array.data.ptr) and sizes; everything is checked here -- ValueError naming the op and the
// argument -- before a pointer reaches a kernel, and launches run with the GIL released.
#pragma once
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <string>

#include "pyfastnn_cuda/activation.h"
#include "pyfastnn_cuda/runtime.h"

namespace pyfastnn {
namespace cuda_bind {

namespace py = pybind11;
using namespace pybind11::literals;
using cuda::ActKind;
using cuda::DType;

[[noreturn]] inline void value_error(const std::string& op, const std::string& msg) {
  throw py::value_error(op + ": " + msg);
}

// A device pointer that must not be null when `needed` (the array has elements).
inline void check_ptr(const char* op, const char* arg, std::uintptr_t p, bool needed = true) {
  if (needed && p == 0) value_error(op, std::string("argument '") + arg + "' is a null device pointer");
}

inline void check_nonneg(const char* op, const char* arg, int64_t v) {
  if (v < 0) value_error(op, std::string("argument '") + arg + "' must be >= 0, got " + std::to_string(v));
}

// Leading dimension of a row-major matrix with `cols` columns.
inline void check_ld(const char* op, const char* arg, int64_t ld, int64_t cols) {
  const int64_t need = cols > 1 ? cols : 1;
  if (ld < need)
    value_error(op, std::string("argument '") + arg + "' must be >= " + std::to_string(need) +
                        " (the number of columns), got " + std::to_string(ld));
}

inline DType parse_dtype(const char* op, const std::string& s) {
  if (s == "float32") return DType::f32;
  if (s == "float64") return DType::f64;
  value_error(op, "argument 'dtype' must be 'float32' or 'float64', got '" + s + "'");
}

inline size_t item_size(DType d) { return d == DType::f32 ? 4 : 8; }

// Names of pyfastnn/backends/reference/activation.py (ACTIVATION_KINDS); "none" only where
// the identity is allowed (GEMM epilogues).
ActKind parse_activation(const char* op, const std::string& s, bool allow_none);

// Runs `launch` without the GIL; a failed launch becomes a RuntimeError with CUDA's message.
template <class F>
void run(const char* op, F&& launch) {
  bool ok;
  {
    py::gil_scoped_release release;
    ok = launch();
  }
  if (!ok) throw std::runtime_error(std::string(op) + ": CUDA error: " + cuda::last_error());
}

void bind_gemm(py::module_& m);
void bind_activation(py::module_& m);
void bind_softmax(py::module_& m);
void bind_dropout(py::module_& m);
void bind_optim(py::module_& m);

}  // namespace cuda_bind
}  // namespace pyfastnn
