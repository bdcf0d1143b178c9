// _cuda.adam_step / sgd_step: lists of device pointers and sizes, one fused launch per group.
#include <optional>

#include "common.h"
#include "pyfastnn_cuda/optim.h"

namespace pyfastnn {
namespace cuda_bind {
namespace {

using Ptrs = std::vector<std::uintptr_t>;

void check_len(const char* op, const char* arg, size_t got, size_t want) {
  if (got != want)
    value_error(op, std::string("argument '") + arg + "' must have " + std::to_string(want) +
                        " entries (one per parameter), got " + std::to_string(got));
}

void check_all(const char* op, const char* arg, const Ptrs& ptrs, const std::vector<int64_t>& sizes) {
  for (size_t i = 0; i < ptrs.size(); ++i)
    if (sizes[i] > 0 && ptrs[i] == 0)
      value_error(op, std::string("argument '") + arg + "' has a null device pointer at position " + std::to_string(i));
}

void adam_binding(const std::string& dtype, const Ptrs& params, const Ptrs& grads, const Ptrs& exp_avgs,
                  const Ptrs& exp_avg_sqs, const std::optional<Ptrs>& max_exp_avg_sqs,
                  const std::vector<int64_t>& sizes, const std::vector<double>& steps, double lr, double beta1,
                  double beta2, double eps, double weight_decay, bool amsgrad, bool maximize, bool decoupled,
                  std::uintptr_t stream) {
  const char* op = "adam_step";
  const DType d = parse_dtype(op, dtype);
  const size_t n = params.size();
  check_len(op, "grads", grads.size(), n);
  check_len(op, "exp_avgs", exp_avgs.size(), n);
  check_len(op, "exp_avg_sqs", exp_avg_sqs.size(), n);
  check_len(op, "sizes", sizes.size(), n);
  check_len(op, "steps", steps.size(), n);
  if (amsgrad && !max_exp_avg_sqs) value_error(op, "amsgrad needs 'max_exp_avg_sqs'");
  if (amsgrad) check_len(op, "max_exp_avg_sqs", max_exp_avg_sqs->size(), n);
  for (size_t i = 0; i < n; ++i) {
    check_nonneg(op, "sizes", sizes[i]);
    if (!(steps[i] >= 1)) value_error(op, "argument 'steps' must be >= 1, got " + std::to_string(steps[i]));
  }
  check_all(op, "params", params, sizes);
  check_all(op, "grads", grads, sizes);
  check_all(op, "exp_avgs", exp_avgs, sizes);
  check_all(op, "exp_avg_sqs", exp_avg_sqs, sizes);
  if (amsgrad) check_all(op, "max_exp_avg_sqs", *max_exp_avg_sqs, sizes);
  std::vector<cuda::AdamTensor> t(n);
  for (size_t i = 0; i < n; ++i)
    t[i] = {reinterpret_cast<void*>(params[i]), reinterpret_cast<const void*>(grads[i]),
            reinterpret_cast<void*>(exp_avgs[i]), reinterpret_cast<void*>(exp_avg_sqs[i]),
            amsgrad ? reinterpret_cast<void*>((*max_exp_avg_sqs)[i]) : nullptr, sizes[i], steps[i]};
  const cuda::AdamHyper h{lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled};
  run(op, [&] { return cuda::adam_step(d, t, h, stream); });
}

void sgd_binding(const std::string& dtype, const Ptrs& params, const Ptrs& grads, const std::optional<Ptrs>& bufs,
                 const std::vector<int64_t>& sizes, const std::vector<bool>& first, double lr, double momentum,
                 double dampening, bool nesterov, double weight_decay, bool maximize, std::uintptr_t stream) {
  const char* op = "sgd_step";
  const DType d = parse_dtype(op, dtype);
  const size_t n = params.size();
  check_len(op, "grads", grads.size(), n);
  check_len(op, "sizes", sizes.size(), n);
  const bool mom = momentum != 0.0;
  if (mom) {
    if (!bufs) value_error(op, "momentum needs 'bufs' (momentum buffers)");
    check_len(op, "bufs", bufs->size(), n);
    check_len(op, "first", first.size(), n);
  }
  for (size_t i = 0; i < n; ++i) check_nonneg(op, "sizes", sizes[i]);
  check_all(op, "params", params, sizes);
  check_all(op, "grads", grads, sizes);
  if (mom) check_all(op, "bufs", *bufs, sizes);
  std::vector<cuda::SgdTensor> t(n);
  for (size_t i = 0; i < n; ++i)
    t[i] = {reinterpret_cast<void*>(params[i]), reinterpret_cast<const void*>(grads[i]),
            mom ? reinterpret_cast<void*>((*bufs)[i]) : nullptr, sizes[i], mom ? bool(first[i]) : false};
  const cuda::SgdHyper h{lr, momentum, dampening, weight_decay, nesterov, maximize};
  run(op, [&] { return cuda::sgd_step(d, t, h, stream); });
}

}  // namespace

void bind_optim(py::module_& m) {
  m.def("adam_step", &adam_binding, "dtype"_a, "params"_a, "grads"_a, "exp_avgs"_a, "exp_avg_sqs"_a,
        "max_exp_avg_sqs"_a, "sizes"_a, "steps"_a, "lr"_a, "beta1"_a, "beta2"_a, "eps"_a, "weight_decay"_a,
        "amsgrad"_a, "maximize"_a, "decoupled"_a, "stream"_a = 0,
        "Adam / AdamW (decoupled) over lists of device pointers, in place; steps: each tensor's step after this one");
  m.def("sgd_step", &sgd_binding, "dtype"_a, "params"_a, "grads"_a, "bufs"_a, "sizes"_a, "first"_a, "lr"_a,
        "momentum"_a, "dampening"_a, "nesterov"_a, "weight_decay"_a, "maximize"_a, "stream"_a = 0,
        "SGD with momentum, dampening, Nesterov and weight decay over lists of device pointers, in place");
}

}  // namespace cuda_bind
}  // namespace pyfastnn
