// _cuda.softmax_forward / softmax_backward / softmax_xent_forward / softmax_xent_backward.
#include "common.h"
#include "pyfastnn_cuda/softmax.h"

namespace pyfastnn {
namespace cuda_bind {
namespace {

using cuda::Reduction;

Reduction parse_reduction(const char* op, const std::string& r) {
  if (r == "mean") return Reduction::mean;
  if (r == "sum") return Reduction::sum;
  if (r == "none") return Reduction::none;
  value_error(op, "argument 'reduction' must be 'mean', 'sum' or 'none', got '" + r + "'");
}

void softmax_forward_binding(const std::string& dtype, bool log, std::uintptr_t x, std::uintptr_t y, int64_t rows,
                             int64_t cols, std::uintptr_t stream) {
  const char* op = log ? "log_softmax_forward" : "softmax_forward";
  const DType d = parse_dtype(op, dtype);
  check_nonneg(op, "rows", rows);
  check_nonneg(op, "cols", cols);
  check_ptr(op, "x", x, rows > 0 && cols > 0);
  check_ptr(op, "y", y, rows > 0 && cols > 0);
  run(op, [&] {
    return cuda::softmax_forward(d, log, reinterpret_cast<const void*>(x), reinterpret_cast<void*>(y), rows, cols,
                                 stream);
  });
}

void softmax_backward_binding(const std::string& dtype, bool log, std::uintptr_t y, std::uintptr_t gy,
                              std::uintptr_t gx, int64_t rows, int64_t cols, std::uintptr_t stream) {
  const char* op = log ? "log_softmax_backward" : "softmax_backward";
  const DType d = parse_dtype(op, dtype);
  check_nonneg(op, "rows", rows);
  check_nonneg(op, "cols", cols);
  const bool work = rows > 0 && cols > 0;
  check_ptr(op, "y", y, work);
  check_ptr(op, "gy", gy, work);
  check_ptr(op, "gx", gx, work);
  run(op, [&] {
    return cuda::softmax_backward(d, log, reinterpret_cast<const void*>(y), reinterpret_cast<const void*>(gy),
                                  reinterpret_cast<void*>(gx), rows, cols, stream);
  });
}

cuda::XentParams xent_params(const char* op, const std::string& dtype, std::uintptr_t logits, int64_t n, int64_t c,
                             std::uintptr_t target_index, std::uintptr_t target_prob, std::uintptr_t weight,
                             std::uintptr_t sample_weight, int64_t ignore_index, double label_smoothing,
                             const std::string& reduction) {
  cuda::XentParams p;
  p.dtype = parse_dtype(op, dtype);
  check_nonneg(op, "n", n);
  check_nonneg(op, "c", c);
  if (!(label_smoothing >= 0.0 && label_smoothing <= 1.0))
    value_error(op, "label_smoothing must be in [0, 1], got " + std::to_string(label_smoothing));
  const bool work = n > 0 && c > 0;
  check_ptr(op, "logits", logits, work);
  if (work && (target_index == 0) == (target_prob == 0))
    value_error(op, "exactly one of 'target_index' (int64 class indices) and 'target_prob' (probabilities) must be "
                    "given");
  p.logits = reinterpret_cast<const void*>(logits);
  p.n = n;
  p.c = c;
  p.target_index = reinterpret_cast<const int64_t*>(target_index);
  p.target_prob = reinterpret_cast<const void*>(target_prob);
  p.weight = reinterpret_cast<const void*>(weight);
  p.sample_weight = reinterpret_cast<const void*>(sample_weight);
  p.ignore_index = ignore_index;
  p.label_smoothing = label_smoothing;
  p.reduction = parse_reduction(op, reduction);
  return p;
}

void xent_forward_binding(const std::string& dtype, std::uintptr_t logits, int64_t n, int64_t c,
                          std::uintptr_t target_index, std::uintptr_t target_prob, std::uintptr_t weight,
                          std::uintptr_t sample_weight, int64_t ignore_index, double label_smoothing,
                          const std::string& reduction, std::uintptr_t loss, std::uintptr_t state,
                          std::uintptr_t stream) {
  const char* op = "cross_entropy";
  const cuda::XentParams p = xent_params(op, dtype, logits, n, c, target_index, target_prob, weight, sample_weight,
                                         ignore_index, label_smoothing, reduction);
  check_ptr(op, "loss", loss, n > 0 && c > 0);
  check_ptr(op, "state", state, n > 0 && c > 0);
  run(op, [&] {
    return cuda::softmax_xent_forward(p, reinterpret_cast<void*>(loss), reinterpret_cast<void*>(state), stream);
  });
}

void xent_backward_binding(const std::string& dtype, std::uintptr_t logits, int64_t n, int64_t c,
                           std::uintptr_t target_index, std::uintptr_t target_prob, std::uintptr_t weight,
                           std::uintptr_t sample_weight, int64_t ignore_index, double label_smoothing,
                           const std::string& reduction, std::uintptr_t state, std::uintptr_t grad_loss,
                           std::uintptr_t grad, std::uintptr_t stream) {
  const char* op = "cross_entropy backward";
  const cuda::XentParams p = xent_params(op, dtype, logits, n, c, target_index, target_prob, weight, sample_weight,
                                         ignore_index, label_smoothing, reduction);
  const bool work = n > 0 && c > 0;
  check_ptr(op, "state", state, work);
  check_ptr(op, "grad_loss", grad_loss, work);
  check_ptr(op, "grad", grad, work);
  run(op, [&] {
    return cuda::softmax_xent_backward(p, reinterpret_cast<const void*>(state),
                                       reinterpret_cast<const void*>(grad_loss), reinterpret_cast<void*>(grad), stream);
  });
}

}  // namespace

void bind_softmax(py::module_& m) {
  m.attr("XENT_STATE_ROWS") = cuda::kXentStateRows;
  m.def("softmax_forward", &softmax_forward_binding, "dtype"_a, "log"_a, "x"_a, "y"_a, "rows"_a, "cols"_a,
        "stream"_a = 0, "softmax (log_softmax when log) along the rows of a C-contiguous rows x cols array");
  m.def("softmax_backward", &softmax_backward_binding, "dtype"_a, "log"_a, "y"_a, "gy"_a, "gx"_a, "rows"_a, "cols"_a,
        "stream"_a = 0, "gradient of softmax_forward from its output y");
  m.def("softmax_xent_forward", &xent_forward_binding, "dtype"_a, "logits"_a, "n"_a, "c"_a, "target_index"_a,
        "target_prob"_a, "weight"_a, "sample_weight"_a, "ignore_index"_a, "label_smoothing"_a, "reduction"_a,
        "loss"_a, "state"_a, "stream"_a = 0,
        "fused softmax + cross-entropy of (n, c) logits; loss: (n,) for reduction 'none' else one value; state: "
        "(XENT_STATE_ROWS, n) for the backward pass (0 pointers: argument not given)");
  m.def("softmax_xent_backward", &xent_backward_binding, "dtype"_a, "logits"_a, "n"_a, "c"_a, "target_index"_a,
        "target_prob"_a, "weight"_a, "sample_weight"_a, "ignore_index"_a, "label_smoothing"_a, "reduction"_a,
        "state"_a, "grad_loss"_a, "grad"_a, "stream"_a = 0, "gradient of softmax_xent_forward w.r.t. the logits");
}

}  // namespace cuda_bind
}  // namespace pyfastnn
