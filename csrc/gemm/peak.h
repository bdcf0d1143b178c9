// Measured FMA peak of one instruction set: independent multiply-add chains in registers,
// enough of them to cover the FMA latency on every x86 core. Benchmarks report "% of peak"
// against this number, taken on the machine they run on.
#pragma once
#include <omp.h>

#include <chrono>

#include "gemm/simd.h"

namespace pyfastnn {
namespace PYFASTNN_ISA_NS {

template <class V>
__attribute__((noinline)) typename V::T fma_chains(long iters, typename V::T seed) {
  using R = typename V::R;
  constexpr int CHAINS = 12;
  R acc[CHAINS];
#pragma GCC unroll 16
  for (int i = 0; i < CHAINS; ++i) acc[i] = V::set1(seed + typename V::T(i) * typename V::T(1e-3));
  const R x = V::set1(typename V::T(0.9999999)), y = V::set1(typename V::T(1e-7));
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < CHAINS; ++i) acc[i] = V::fma(acc[i], x, y);
  }
  alignas(64) typename V::T out[V::W];
  R s = acc[0];
#pragma GCC unroll 16
  for (int i = 1; i < CHAINS; ++i) s = V::fma(s, x, acc[i]);
  V::store(out, s);
  return out[0];
}

// GFLOP/s of `threads` threads each running fma_chains for about `seconds`.
template <class V>
double fma_peak_gflops(int threads, double seconds) {
  using clock = std::chrono::steady_clock;
  constexpr int CHAINS = 12;
  long iters = 1 << 16;  // grow until one run takes long enough to time
  for (;;) {
    volatile typename V::T sink = 0;
    const auto t0 = clock::now();
#pragma omp parallel num_threads(threads)
    { sink = fma_chains<V>(iters, typename V::T(1) + typename V::T(omp_get_thread_num())); }
    const double t = std::chrono::duration<double>(clock::now() - t0).count();
    (void)sink;  // volatile: the chains' result is stored, so they are not optimised away
    if (t >= seconds || iters > (1L << 40)) return double(threads) * iters * CHAINS * V::W * 2 / t / 1e9;
    iters = t > 1e-4 ? long(iters * 1.2 * seconds / t) + 1 : iters * 16;
  }
}

}  // namespace PYFASTNN_ISA_NS
}  // namespace pyfastnn
