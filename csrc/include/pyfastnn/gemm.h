// GEMM: C = act(alpha * op(A) * op(B) + beta * C + bias), row-major, op = identity or
// transpose; bias (one value per column of C, may be null) and act (none or relu) form the
// epilogue, applied in the micro-kernel as it stores the last K block (no extra pass over C).
//
// op(A) is m x k, op(B) is k x n, C is m x n. Each matrix is row-major with a leading
// dimension (the distance in elements between consecutive rows of the stored matrix):
// A is stored m x k (lda >= k), or k x m when trans_a (lda >= m); likewise B.
// beta == 0 means C is not read (NaNs in C do not propagate), as in BLAS.
#pragma once
#include <cstdint>

namespace pyfastnn {

// Activation of the GEMM epilogue. Others run as separate elementwise kernels.
enum class GemmActivation : int { none = 0, relu = 1 };

template <class T>
struct GemmArgs {
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  T alpha = T(1);
  const T* a = nullptr;
  int64_t lda = 0;
  const T* b = nullptr;
  int64_t ldb = 0;
  T beta = T(0);
  T* c = nullptr;
  int64_t ldc = 0;
  // epilogue: bias[j] is added to column j (n values, unit stride; null: none), then act;
  // relu keeps NaN (max(x, 0) with NaN propagation, like PyTorch's relu)
  const T* bias = nullptr;
  GemmActivation act = GemmActivation::none;
};

// Strided batch: item i multiplies a + i*stride_a by b + i*stride_b into c + i*stride_c.
// A stride of 0 broadcasts that operand over the batch (never for C).
struct GemmBatch {
  int64_t count = 1, stride_a = 0, stride_b = 0, stride_c = 0;
};

void gemm(const GemmArgs<float>& args, int num_threads);
void gemm(const GemmArgs<double>& args, int num_threads);
void gemm_strided_batched(const GemmArgs<float>& args, const GemmBatch& batch, int num_threads);
void gemm_strided_batched(const GemmArgs<double>& args, const GemmBatch& batch, int num_threads);

// Instruction set of the GEMM micro-kernels. avx512_emulated runs the AVX-512 tile shape and
// blocking on generic 16-wide vectors: it lets machines without AVX-512 test that code path.
enum class Isa { portable = 0, avx2 = 1, avx512 = 2, avx512_emulated = 3 };

const char* isa_name(Isa isa);
bool isa_from_name(const char* name, Isa* out);
bool isa_supported(Isa isa);  // compiled in and runnable on this CPU
Isa best_isa();               // what the run-time dispatch picks
Isa active_isa();
void set_active_isa(Isa isa);  // precondition: isa_supported(isa)

// float32 FMA throughput of the active ISA's registers, measured over about `seconds`.
double fma_peak_gflops(int num_threads, double seconds);

}  // namespace pyfastnn
