// The thread split shared by the pooling and normalization kernels: contiguous ranges of
// independent work items, one per thread, and only as many threads as the work pays for.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace pyfastnn {
namespace poolnorm {

// Fewest element operations worth a thread of their own.
constexpr int64_t kGrain = int64_t(1) << 14;

// f(begin, end) over [0, n) in at most `threads` contiguous pieces; cost: the elements
// each item touches (for the grain).
template <class F>
void parallel_ranges(int64_t n, int64_t cost_per_item, int threads, F&& f) {
  if (n <= 0) return;
  const int64_t total = n * std::max<int64_t>(cost_per_item, 1);
  int64_t t = std::min<int64_t>({static_cast<int64_t>(std::max(threads, 1)), n, std::max<int64_t>(1, total / kGrain)});
  if (t <= 1) {
    f(int64_t(0), n);
    return;
  }
#pragma omp parallel num_threads(static_cast<int>(t))
  {
    const int64_t id = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t b = n * id / nt, e = n * (id + 1) / nt;
    if (b < e) f(b, e);
  }
}

}  // namespace poolnorm
}  // namespace pyfastnn
