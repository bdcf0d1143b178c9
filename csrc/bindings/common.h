// Shared helpers of the pybind11 bindings: argument checks that turn bad input into a
// Python TypeError/ValueError naming the op, the argument, what was expected and what was
// given, before any kernel sees a pointer; and the thread count kernels are given.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

namespace pyfastnn {
namespace bind {

namespace py = pybind11;

int num_threads();  // set by pyfastnn.set_num_threads; default: every available core
void set_num_threads(int n);

std::string describe(const py::handle& obj);  // "numpy.ndarray float64 of shape (3, 4)", "list", ...
std::string shape_str(const py::array& arr);

[[noreturn]] void type_error(const std::string& op, const std::string& arg, const std::string& expected,
                             const py::handle& got);
[[noreturn]] void value_error(const std::string& op, const std::string& msg);

// The argument as a numpy array of dtype T (no conversion, no copy), or a TypeError.
template <class T>
py::array as_array(const py::handle& obj, const char* op, const char* arg) {
  const char* want = sizeof(T) == 4 ? "a float32 numpy array (the dtype of 'a')" : "a float64 numpy array (the dtype of 'a')";
  if (std::string(arg) == "a") want = sizeof(T) == 4 ? "a float32 numpy array" : "a float64 numpy array";
  if (!py::isinstance<py::array>(obj)) type_error(op, arg, want, obj);
  py::array arr = py::reinterpret_borrow<py::array>(obj);
  if (!arr.dtype().is(py::dtype::of<T>())) type_error(op, arg, want, obj);
  return arr;
}

// A matrix view of a 2-D array whose last dimension has unit stride (row-major with any
// leading dimension), or of the trailing two dimensions of a 3-D array (a strided batch).
struct MatrixArg {
  void* data = nullptr;
  int64_t rows = 0, cols = 0, ld = 0;
  int64_t batch = 1, batch_stride = 0;  // in elements
};

MatrixArg matrix_arg(const py::array& arr, int ndim, const char* op, const char* arg);

// Registry of binding functions: every bindings/*.cpp registers its own at load time, so
// adding an area never touches module.cpp. Use as
//   PYFASTNN_BINDINGS(softmax) { m.def(...); }
using BindingFn = void (*)(py::module_&);
int add_binding(const char* name, BindingFn fn);
void run_bindings(py::module_& m);  // in name order

}  // namespace bind
}  // namespace pyfastnn

#define PYFASTNN_BINDINGS(name)                                                                  \
  static void pyfastnn_bind_##name(pybind11::module_& m);                                        \
  static const int pyfastnn_bind_reg_##name = ::pyfastnn::bind::add_binding(#name, &pyfastnn_bind_##name); \
  static void pyfastnn_bind_##name(pybind11::module_& m)
