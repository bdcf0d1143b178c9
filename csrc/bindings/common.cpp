#include "bindings/common.h"

#include <algorithm>
#include <sstream>
#include <utility>
#include <vector>

#include "pyfastnn/cpu_features.h"

namespace pyfastnn {
namespace bind {

static int g_num_threads = 0;  // 0: not set yet, use every available core

int num_threads() {
  static const int cores = available_cores();  // the affinity mask is read once, not per kernel call
  return g_num_threads > 0 ? g_num_threads : cores;
}
void set_num_threads(int n) { g_num_threads = n; }

std::string shape_str(const py::array& arr) {
  std::ostringstream s;
  s << "(";
  for (py::ssize_t i = 0; i < arr.ndim(); ++i) s << (i ? ", " : "") << arr.shape(i);
  s << (arr.ndim() == 1 ? ",)" : ")");
  return s.str();
}

static std::string strides_str(const py::array& arr) {
  std::ostringstream s;
  s << "(";
  for (py::ssize_t i = 0; i < arr.ndim(); ++i) s << (i ? ", " : "") << arr.strides(i);
  s << (arr.ndim() == 1 ? ",)" : ")");
  return s.str();
}

std::string describe(const py::handle& obj) {
  if (py::isinstance<py::array>(obj)) {
    py::array arr = py::reinterpret_borrow<py::array>(obj);
    const std::string dtype = py::str(arr.dtype());
    const bool vowel = !dtype.empty() && std::string("aeiou").find(dtype[0]) != std::string::npos;
    return (vowel ? "an " : "a ") + dtype + " array of shape " + shape_str(arr);
  }
  return "an object of type " + std::string(py::str(py::type::handle_of(obj).attr("__name__")));
}

void type_error(const std::string& op, const std::string& arg, const std::string& expected, const py::handle& got) {
  throw py::type_error(op + ": argument '" + arg + "' must be " + expected + ", got " + describe(got));
}

void value_error(const std::string& op, const std::string& msg) { throw py::value_error(op + ": " + msg); }

MatrixArg matrix_arg(const py::array& arr, int ndim, const char* op, const char* arg) {
  if (arr.ndim() != ndim)
    value_error(op, std::string("argument '") + arg + "' must be " + std::to_string(ndim) + "-D, got shape " +
                        shape_str(arr));
  const py::ssize_t item = arr.itemsize();
  MatrixArg m;
  m.data = const_cast<void*>(arr.data());
  m.rows = arr.shape(ndim - 2);
  m.cols = arr.shape(ndim - 1);
  if (reinterpret_cast<std::uintptr_t>(m.data) % item != 0)
    value_error(op, std::string("argument '") + arg + "' is not aligned to its element size");
  auto elements = [&](int dim, int64_t extent) -> int64_t {
    py::ssize_t s = arr.strides(dim);
    if (extent <= 1) return 0;  // the stride of a dimension of size 0 or 1 never matters
    if (s < 0 || s % item != 0)
      value_error(op, std::string("argument '") + arg + "' must have non-negative strides that are multiples of "
                      "its element size, got strides " + strides_str(arr) + " (bytes)");
    return s / item;
  };
  if (arr.size() == 0) {  // nothing is read or written: strides do not matter
    m.ld = m.cols > 0 ? m.cols : 1;
    m.batch = ndim == 3 ? arr.shape(0) : 1;
    m.batch_stride = m.rows * m.ld;
    return m;
  }
  if (m.cols > 1 && arr.strides(ndim - 1) != item)
    value_error(op, std::string("argument '") + arg +
                        "' must be row-major with unit stride along its last dimension (any leading dimension); "
                        "got a non-contiguous array of shape " + shape_str(arr) + " — pass a copy made with "
                        "numpy.ascontiguousarray");
  m.ld = m.rows > 1 ? elements(ndim - 2, m.rows) : (m.cols > 0 ? m.cols : 1);
  if (ndim == 3) {
    m.batch = arr.shape(0);
    m.batch_stride = elements(0, m.batch);
  }
  return m;
}

static std::vector<std::pair<std::string, BindingFn>>& registry() {
  static std::vector<std::pair<std::string, BindingFn>> r;  // built on first use: no init-order issue
  return r;
}

int add_binding(const char* name, BindingFn fn) {
  registry().emplace_back(name, fn);
  return static_cast<int>(registry().size());
}

void run_bindings(py::module_& m) {
  auto r = registry();
  std::sort(r.begin(), r.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [name, fn] : r) fn(m);
}

}  // namespace bind
}  // namespace pyfastnn
