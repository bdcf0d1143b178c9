// Fused multi-tensor optimizer step: per-tensor scalars, then OpenMP over chunks of the
// flattened elements of all tensors (a chunk never crosses a tensor boundary).
#include "pyfastnn/optim.h"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "optim/optim_table.h"
#include "pyfastnn/isa.h"

namespace pyfastnn {
namespace {

constexpr int64_t kChunk = int64_t(1) << 15;  // elements per work item: ~100 us of memory traffic

OptimScalars scalars(OptimKind kind, const OptimHyper& h, double step) {
  OptimScalars s;
  if (kind == OptimKind::adam) {
    const double bc1 = 1 - std::pow(h.beta1, step), bc2 = 1 - std::pow(h.beta2, step);
    s.a = h.lr / bc1;
    s.b = 1 / std::sqrt(bc2);
    s.c = h.decoupled ? 1 - h.lr * h.weight_decay : 1;
  } else if (kind == OptimKind::adagrad) {
    s.a = h.lr / (1 + (step - 1) * h.lr_decay);
  }
  return s;
}

struct Work {
  int tensor;
  int64_t begin, end;
};

void run(OptimKind k, const OptimTensor<float>& t, int64_t b, int64_t e, const OptimHyper& h, const OptimScalars& s) {
  PYFASTNN_ISA_SELECT(optim_kernels).f32(k, t, b, e, h, s);
}
void run(OptimKind k, const OptimTensor<double>& t, int64_t b, int64_t e, const OptimHyper& h,
         const OptimScalars& s) {
  PYFASTNN_ISA_SELECT(optim_kernels).f64(k, t, b, e, h, s);
}

}  // namespace

template <class T>
void optim_step(OptimKind kind, std::vector<OptimTensor<T>>& tensors, const OptimHyper& h, int num_threads) {
  std::vector<OptimScalars> sc(tensors.size());
  std::vector<Work> work;
  int64_t total = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    sc[i] = scalars(kind, h, tensors[i].step);
    for (int64_t b = 0; b < tensors[i].n; b += kChunk)
      work.push_back({static_cast<int>(i), b, std::min(tensors[i].n, b + kChunk)});
    total += tensors[i].n;
  }
  const int threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(num_threads, total / kChunk)));
  const int64_t items = static_cast<int64_t>(work.size());
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
  for (int64_t w = 0; w < items; ++w) {
    const Work& it = work[w];
    run(kind, tensors[it.tensor], it.begin, it.end, h, sc[it.tensor]);
  }
}

template void optim_step<float>(OptimKind, std::vector<OptimTensor<float>>&, const OptimHyper&, int);
template void optim_step<double>(OptimKind, std::vector<OptimTensor<double>>&, const OptimHyper&, int);

}  // namespace pyfastnn
