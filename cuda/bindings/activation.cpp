// _cuda.activation_forward / activation_backward / bias_act_backward.
#include "common.h"

namespace pyfastnn {
namespace cuda_bind {

ActKind parse_activation(const char* op, const std::string& s, bool allow_none) {
  static const char* const names[] = {"relu", "relu6",     "hardtanh", "leaky_relu", "elu",      "selu",     "gelu",
                                      "gelu_tanh", "silu", "sigmoid",  "tanh",       "softplus", "hardswish",
                                      "hardsigmoid"};
  for (int i = 0; i < 14; ++i)
    if (s == names[i]) return static_cast<ActKind>(i);
  if (allow_none && (s == "none" || s.empty())) return ActKind::none;
  std::string valid = allow_none ? "'none'" : "";
  for (const char* n : names) valid += std::string(valid.empty() ? "'" : ", '") + n + "'";
  value_error(op, "unknown activation '" + s + "'; expected one of " + valid);
}

namespace {

void forward_binding(const std::string& kind, const std::string& dtype, std::uintptr_t x, std::uintptr_t y, int64_t n,
                     double alpha, double beta, std::uintptr_t stream) {
  const char* op = "activation_forward";
  const ActKind k = parse_activation(op, kind, false);
  const DType d = parse_dtype(op, dtype);
  check_nonneg(op, "n", n);
  check_ptr(op, "x", x, n > 0);
  check_ptr(op, "y", y, n > 0);
  run(op, [&] {
    return cuda::activation_forward(k, d, reinterpret_cast<const void*>(x), reinterpret_cast<void*>(y), n, alpha, beta,
                                    stream);
  });
}

void backward_binding(const std::string& kind, const std::string& dtype, std::uintptr_t v, bool from_y,
                      std::uintptr_t gy, std::uintptr_t gx, int64_t n, double alpha, double beta,
                      std::uintptr_t stream) {
  const char* op = "activation_backward";
  const ActKind k = parse_activation(op, kind, false);
  const DType d = parse_dtype(op, dtype);
  check_nonneg(op, "n", n);
  check_ptr(op, from_y ? "y" : "x", v, n > 0);
  check_ptr(op, "gy", gy, n > 0);
  check_ptr(op, "gx", gx, n > 0);
  run(op, [&] {
    return cuda::activation_backward(k, d, reinterpret_cast<const void*>(v), from_y, reinterpret_cast<const void*>(gy),
                                     reinterpret_cast<void*>(gx), n, alpha, beta, stream);
  });
}

void bias_act_backward_binding(const std::string& activation, const std::string& dtype, std::uintptr_t y, int64_t ldy,
                               std::uintptr_t gy, int64_t ldg, std::uintptr_t gz, int64_t ldz, std::uintptr_t db,
                               int64_t rows, int64_t cols, std::uintptr_t stream) {
  const char* op = "bias_act_backward";
  const ActKind k = parse_activation(op, activation, true);
  if (k != ActKind::none && k != ActKind::relu)
    value_error(op, "argument 'activation' must be 'none' or 'relu', got '" + activation + "'");
  const DType d = parse_dtype(op, dtype);
  check_nonneg(op, "rows", rows);
  check_nonneg(op, "cols", cols);
  const bool work = rows > 0 && cols > 0, relu = k == ActKind::relu;
  check_ld(op, "ldg", ldg, cols);
  if (relu) {
    check_ld(op, "ldy", ldy, cols);
    check_ld(op, "ldz", ldz, cols);
  }
  check_ptr(op, "gy", gy, work);
  check_ptr(op, "y", y, work && relu);
  check_ptr(op, "gz", gz, work && relu);
  run(op, [&] {
    return cuda::bias_act_backward(k, d, reinterpret_cast<const void*>(y), ldy, reinterpret_cast<const void*>(gy), ldg,
                                   reinterpret_cast<void*>(gz), ldz, reinterpret_cast<void*>(db), rows, cols, stream);
  });
}

}  // namespace

void bind_activation(py::module_& m) {
  m.def("activation_forward", &forward_binding, "kind"_a, "dtype"_a, "x"_a, "y"_a, "n"_a, "alpha"_a = 0.0,
        "beta"_a = 0.0, "stream"_a = 0, "y = f(x) elementwise over n values (y may be x).");
  m.def("activation_backward", &backward_binding, "kind"_a, "dtype"_a, "v"_a, "from_y"_a, "gy"_a, "gx"_a, "n"_a,
        "alpha"_a = 0.0, "beta"_a = 0.0, "stream"_a = 0,
        "gx = gy * f'(.) from v = x, or v = y when from_y (see backends.reference.activation).");
  m.def("bias_act_backward", &bias_act_backward_binding, "activation"_a, "dtype"_a, "y"_a, "ldy"_a, "gy"_a, "ldg"_a,
        "gz"_a, "ldz"_a, "db"_a, "rows"_a, "cols"_a, "stream"_a = 0,
        "gz = gy * act'(y) (act 'none' or 'relu') and db = gz.sum(0) (db 0: not wanted).");
}

}  // namespace cuda_bind
}  // namespace pyfastnn
