// Dropout: the thread split and the run-time ISA choice (kernels in dropout_impl.h).
#include "pyfastnn/dropout.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

#include "dropout/dropout_impl.h"
#include "pyfastnn/isa.h"

namespace pyfastnn {
namespace {

// Fewest elements worth a thread of their own (a hash per two elements: ~1 ns each).
constexpr int64_t kGrain = int64_t(1) << 15;

const DropoutKernelTable& table() { return PYFASTNN_ISA_SELECT(dropout_kernels); }

// f(begin, end) over [0, n) in at most `threads` pieces of at least kGrain elements, each
// starting at a multiple of 16 (even: whole hashes; whole cache lines).
template <class F>
void parallel_ranges(int64_t n, int threads, F&& f) {
  const int64_t t = std::min<int64_t>(threads, n / kGrain);
  if (t <= 1) {
    f(int64_t(0), n);
    return;
  }
#pragma omp parallel num_threads(static_cast<int>(t))
  {
    const int64_t id = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t chunk = ((n + nt - 1) / nt + 15) / 16 * 16;
    const int64_t b = std::min(n, id * chunk), e = std::min(n, b + chunk);
    if (b < e) f(b, e);
  }
}

void apply(const float* x, float* y, int64_t b, int64_t e, uint64_t key, uint32_t thr, double p) {
  table().apply_f32(x + b, y + b, b, e, key, thr, static_cast<float>(1.0 / (1.0 - p)));
}
void apply(const double* x, double* y, int64_t b, int64_t e, uint64_t key, uint32_t thr, double p) {
  table().apply_f64(x + b, y + b, b, e, key, thr, 1.0 / (1.0 - p));
}

template <class T>
void forward_impl(const T* x, T* y, int64_t n, double p, uint64_t seed, int num_threads) {
  if (n <= 0) return;
  const uint64_t thr = dropout_threshold(p);
  if (thr >= (uint64_t(1) << 32)) {  // p = 1: nothing kept
    std::memset(static_cast<void*>(y), 0, sizeof(T) * n);
    return;
  }
  const uint64_t key = dropout_key(seed);
  parallel_ranges(n, num_threads, [&](int64_t b, int64_t e) { apply(x, y, b, e, key, static_cast<uint32_t>(thr), p); });
}

}  // namespace

void dropout_forward(const float* x, float* y, int64_t n, double p, uint64_t seed, int num_threads) {
  forward_impl(x, y, n, p, seed, num_threads);
}
void dropout_forward(const double* x, double* y, int64_t n, double p, uint64_t seed, int num_threads) {
  forward_impl(x, y, n, p, seed, num_threads);
}

void dropout_mask(uint8_t* mask, int64_t n, double p, uint64_t seed, int num_threads) {
  if (n <= 0) return;
  const uint64_t thr = dropout_threshold(p), key = dropout_key(seed);
  parallel_ranges(n, num_threads, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const uint64_t h = dropout_mix(key + static_cast<uint64_t>(i >> 1) * kDropoutGamma);
      const uint64_t u = (i & 1) ? (h >> 32) : (h & 0xFFFFFFFFull);
      mask[i] = u >= thr ? 1 : 0;
    }
  });
}

}  // namespace pyfastnn
