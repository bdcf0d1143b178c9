// _cuda.dropout_forward / dropout_mask.
#include "common.h"
#include "pyfastnn_cuda/dropout.h"

namespace pyfastnn {
namespace cuda_bind {
namespace {

void check_p(const char* op, double p) {
  if (!(p >= 0.0 && p <= 1.0))
    value_error(op, "dropout probability has to be between 0 and 1, but got " + std::to_string(p));
}

void forward_binding(const std::string& dtype, std::uintptr_t x, std::uintptr_t y, int64_t n, double p, uint64_t seed,
                     std::uintptr_t stream) {
  const char* op = "dropout_forward";
  const DType d = parse_dtype(op, dtype);
  check_nonneg(op, "n", n);
  check_p(op, p);
  check_ptr(op, "x", x, n > 0);
  check_ptr(op, "y", y, n > 0);
  run(op, [&] {
    return cuda::dropout_forward(d, reinterpret_cast<const void*>(x), reinterpret_cast<void*>(y), n, p, seed, stream);
  });
}

void mask_binding(std::uintptr_t mask, int64_t n, double p, uint64_t seed, std::uintptr_t stream) {
  const char* op = "dropout_mask";
  check_nonneg(op, "n", n);
  check_p(op, p);
  check_ptr(op, "mask", mask, n > 0);
  run(op, [&] { return cuda::dropout_mask(reinterpret_cast<uint8_t*>(mask), n, p, seed, stream); });
}

}  // namespace

void bind_dropout(py::module_& m) {
  m.def("dropout_forward", &forward_binding, "dtype"_a, "x"_a, "y"_a, "n"_a, "p"_a, "seed"_a, "stream"_a = 0,
        "y = x * keep(seed, i) / (1 - p) with the CPU kernels' counter-based mask (y may be x)");
  m.def("dropout_mask", &mask_binding, "mask"_a, "n"_a, "p"_a, "seed"_a, "stream"_a = 0,
        "keep(seed, i) as uint8 0/1 for i < n");
}

}  // namespace cuda_bind
}  // namespace pyfastnn
