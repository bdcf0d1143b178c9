// SGEMM on the GPU, row-major like the CPU kernels:
//   C = act(alpha * op(A) @ op(B) + beta * C + bias)   for each of `batch` matrices,
// op(X) = X or X^T (trans_x: X is stored transposed, e.g. A as k x m). With beta == 0, C is
// not read (BLAS semantics: NaN in C does not propagate). bias (n,) is added per column.
#pragma once
#include <cstdint>

#include "pyfastnn_cuda/activation.h"

namespace pyfastnn {
namespace cuda {

// How the products are computed: FP32 FMA on the CUDA cores, or tensor cores with the
// inputs rounded to TF32 (10-bit mantissa) or BF16 (7-bit); accumulation is FP32 always.
enum class GemmPrecision : int { fp32 = 0, tf32 = 1, bf16 = 2 };

struct GemmParams {
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  float alpha = 1.0f, beta = 0.0f;
  const float* a = nullptr;  // m x k (k x m when trans_a), row stride lda
  int64_t lda = 0, stride_a = 0;  // stride_*: elements between batch items (0: shared)
  const float* b = nullptr;  // k x n (n x k when trans_b)
  int64_t ldb = 0, stride_b = 0;
  float* c = nullptr;        // m x n
  int64_t ldc = 0, stride_c = 0;
  int64_t batch = 1;
  const float* bias = nullptr;  // (n,) or null
  ActKind act = ActKind::none;  // applied last (ActKind::none: identity)
  float act_alpha = 0.0f, act_beta = 0.0f;
  GemmPrecision precision = GemmPrecision::fp32;
};

// Launches on `stream`; false (see last_error) when the launch fails or the precision needs
// tensor cores this device lacks (TF32/BF16 need compute capability 8.0).
bool gemm(const GemmParams& p, std::uintptr_t stream);

// gemm with the kernel chosen by the caller (tests, benchmarks): 0 automatic, 1 FP32 128 x 128
// tiles, 2 FP32 64 x 64 tiles, 3 tensor cores (TF32 unless p.precision is bf16).
bool gemm_variant(const GemmParams& p, int variant, std::uintptr_t stream);

}  // namespace cuda
}  // namespace pyfastnn
