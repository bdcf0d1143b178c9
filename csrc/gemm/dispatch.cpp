// Run-time choice of the GEMM kernels, the trivial cases, the thread count heuristic and
// the strided batch.
#include <omp.h>

#include <atomic>
#include <cstring>
#include <initializer_list>

#include "gemm/kernel_table.h"
#include "pyfastnn/cpu_features.h"
#include "pyfastnn/gemm.h"

namespace pyfastnn {
namespace {

std::atomic<int> g_active_isa{-1};

const GemmKernelTable& table_for(Isa isa) {
  switch (isa) {
#ifdef PYFASTNN_X86
    case Isa::avx512:
      return gemm_kernels_avx512;
    case Isa::avx2:
      return gemm_kernels_avx2;
#endif
    case Isa::avx512_emulated:
      return gemm_kernels_avx512_emulated;
    default:
      return gemm_kernels_portable;
  }
}

const GemmKernelTable& active_table() { return table_for(active_isa()); }

void kernel(const GemmArgs<float>& g, int threads) { active_table().sgemm(g, threads); }
void kernel(const GemmArgs<double>& g, int threads) { active_table().dgemm(g, threads); }

// Below ~2 MFLOP a second thread costs more (wake-up, barriers) than it saves.
int useful_threads(int64_t m, int64_t n, int64_t k, int requested) {
  const double flops = 2.0 * double(m) * double(n) * double(k);
  if (requested <= 1 || flops < 2.0e6) return 1;
  const double per_thread = 1.0e6;  // keep at least ~1 MFLOP per thread
  const double cap = flops / per_thread;
  return cap < requested ? static_cast<int>(cap) : requested;
}

// C = act(beta * C + bias) for the cases with no product to add (k == 0 or alpha == 0).
template <class T>
void scale_c(const GemmArgs<T>& g) {
  const bool relu = g.act == GemmActivation::relu;
  for (int64_t i = 0; i < g.m; ++i) {
    T* row = g.c + i * g.ldc;
    if (g.beta == T(0))
      std::memset(row, 0, sizeof(T) * g.n);
    else if (g.beta != T(1))
      for (int64_t j = 0; j < g.n; ++j) row[j] *= g.beta;
    if (g.bias)
      for (int64_t j = 0; j < g.n; ++j) row[j] += g.bias[j];
    if (relu)
      for (int64_t j = 0; j < g.n; ++j) row[j] = row[j] < T(0) ? T(0) : row[j];
  }
}

template <class T>
void gemm_impl(const GemmArgs<T>& g, int num_threads) {
  if (g.m <= 0 || g.n <= 0) return;
  if (g.k <= 0 || g.alpha == T(0)) return scale_c(g);
  kernel(g, useful_threads(g.m, g.n, g.k, num_threads));
}

template <class T>
void gemm_batched_impl(const GemmArgs<T>& g, const GemmBatch& batch, int num_threads) {
  if (batch.count <= 0) return;
  const int per_item = useful_threads(g.m, g.n, g.k, num_threads);
  auto item = [&](int64_t i, int threads) {
    GemmArgs<T> gi = g;
    gi.a = g.a + i * batch.stride_a;
    gi.b = g.b + i * batch.stride_b;
    gi.c = g.c + i * batch.stride_c;
    gemm_impl(gi, threads);
  };
  // Many small products: one whole product per thread beats splitting each one.
  if (per_item < num_threads && batch.count >= 2 && num_threads > 1) {
    const int threads = batch.count < num_threads ? static_cast<int>(batch.count) : num_threads;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (int64_t i = 0; i < batch.count; ++i) item(i, 1);
    return;
  }
  for (int64_t i = 0; i < batch.count; ++i) item(i, num_threads);
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::avx512:
      return "avx512";
    case Isa::avx2:
      return "avx2";
    case Isa::avx512_emulated:
      return "avx512_emulated";
    default:
      return "portable";
  }
}

bool isa_from_name(const char* name, Isa* out) {
  for (Isa isa : {Isa::portable, Isa::avx2, Isa::avx512, Isa::avx512_emulated}) {
    if (std::strcmp(name, isa_name(isa)) == 0) {
      *out = isa;
      return true;
    }
  }
  return false;
}

bool isa_supported(Isa isa) {
  switch (isa) {
#ifdef PYFASTNN_X86
    case Isa::avx512:
      return cpu_features().avx512;
    case Isa::avx2:
      return cpu_features().avx2_fma;
#endif
    case Isa::portable:
    case Isa::avx512_emulated:
      return true;
    default:
      return false;
  }
}

Isa best_isa() {
  if (isa_supported(Isa::avx512)) return Isa::avx512;
  if (isa_supported(Isa::avx2)) return Isa::avx2;
  return Isa::portable;
}

Isa active_isa() {
  int isa = g_active_isa.load(std::memory_order_relaxed);
  if (isa < 0) {
    isa = static_cast<int>(best_isa());
    g_active_isa.store(isa, std::memory_order_relaxed);
  }
  return static_cast<Isa>(isa);
}

void set_active_isa(Isa isa) { g_active_isa.store(static_cast<int>(isa), std::memory_order_relaxed); }

double fma_peak_gflops(int num_threads, double seconds) { return active_table().peak_gflops(num_threads, seconds); }

void gemm(const GemmArgs<float>& args, int num_threads) { gemm_impl(args, num_threads); }
void gemm(const GemmArgs<double>& args, int num_threads) { gemm_impl(args, num_threads); }
void gemm_strided_batched(const GemmArgs<float>& args, const GemmBatch& batch, int num_threads) {
  gemm_batched_impl(args, batch, num_threads);
}
void gemm_strided_batched(const GemmArgs<double>& args, const GemmBatch& batch, int num_threads) {
  gemm_batched_impl(args, batch, num_threads);
}

}  // namespace pyfastnn
