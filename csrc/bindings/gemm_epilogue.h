// Argument checks for the GEMM epilogue (bias vector, activation), shared by the gemm and
// linear bindings.
#pragma once
#include <string>

#include "bindings/common.h"
#include "pyfastnn/gemm.h"

namespace pyfastnn {
namespace bind {

// None, "none"/"linear"/"identity" -> none; "relu" -> relu; anything else: ValueError/TypeError.
inline GemmActivation parse_activation(const py::handle& obj, const char* op) {
  if (obj.is_none()) return GemmActivation::none;
  if (!py::isinstance<py::str>(obj)) type_error(op, "activation", "None or a string ('relu' or 'none')", obj);
  const std::string name = py::str(obj);
  if (name == "relu") return GemmActivation::relu;
  if (name == "none" || name == "linear" || name == "identity") return GemmActivation::none;
  value_error(op, "unknown activation '" + name + "'; the fused kernels support 'relu' and 'none' (None)");
}

// The bias vector of the epilogue: None, or a 1-D array of dtype T with n values and unit
// stride. Returns its data pointer (null for None).
template <class T>
const T* bias_arg(const py::handle& obj, int64_t n, const char* op) {
  if (obj.is_none()) return nullptr;
  const char* want = sizeof(T) == 4 ? "None or a float32 numpy array" : "None or a float64 numpy array";
  if (!py::isinstance<py::array>(obj)) type_error(op, "bias", want, obj);
  py::array arr = py::reinterpret_borrow<py::array>(obj);
  if (!arr.dtype().is(py::dtype::of<T>())) type_error(op, "bias", want, obj);
  if (arr.ndim() != 1 || arr.shape(0) != n)
    value_error(op, "argument 'bias' must have shape (" + std::to_string(n) + ",) (one value per output column), got " +
                        shape_str(arr));
  if (n > 1 && arr.strides(0) != static_cast<py::ssize_t>(sizeof(T)))
    value_error(op, "argument 'bias' must be contiguous (unit stride); pass numpy.ascontiguousarray(bias)");
  if (reinterpret_cast<std::uintptr_t>(arr.data()) % sizeof(T) != 0)
    value_error(op, "argument 'bias' is not aligned to its element size");
  return static_cast<const T*>(arr.data());
}

}  // namespace bind
}  // namespace pyfastnn
