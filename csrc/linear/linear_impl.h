// The fused elementwise pass of the linear layer's backward, gz = gy * act'(y) with the
// column sums db = sum_i gz[i, :], as serial kernels over one block. Written once as scalar
// code in `#pragma omp simd` loops and compiled per instruction set
// (linear_{portable,avx2,avx512}.cpp); linear.cpp splits the work and picks the table.
#pragma once
#include <cstdint>

namespace pyfastnn {

// Serial kernel over a rows x cols block (pointers at the block's top-left element):
// writes gz (unless null) and sum[0:cols] = column sums of gz over the block's rows (unless
// null). act: 0 none (gz = gy, y unread), 1 relu (gz = 0 where y <= 0, else gy).
template <class T>
using LinearActGradFn = void (*)(int64_t rows, int64_t cols, const T* y, int64_t ldy, const T* gy, int64_t ldgy,
                                 T* gz, int64_t ldgz, T* sum, int act);

struct LinearKernelTable {
  LinearActGradFn<float> act_grad_f32;
  LinearActGradFn<double> act_grad_f64;
};

// Widest column block a kernel call takes (its sums live in a local array).
constexpr int64_t kLinearMaxBlockCols = 256;

extern const LinearKernelTable linear_kernels_portable;
#ifdef PYFASTNN_X86
extern const LinearKernelTable linear_kernels_avx2;
extern const LinearKernelTable linear_kernels_avx512;
#endif

}  // namespace pyfastnn

#ifdef PYFASTNN_ISA_NS
namespace pyfastnn {
namespace PYFASTNN_ISA_NS {
namespace linear_k {

template <class T>
void act_grad(int64_t rows, int64_t cols, const T* __restrict y, int64_t ldy, const T* __restrict gy, int64_t ldgy,
              T* __restrict gz, int64_t ldgz, T* __restrict sum, int act) {
  alignas(64) T s[kLinearMaxBlockCols];
  for (int64_t j = 0; j < cols; ++j) s[j] = T(0);
  for (int64_t i = 0; i < rows; ++i) {
    const T* gyr = gy + i * ldgy;
    if (act == 1) {
      const T* yr = y + i * ldy;
      if (gz) {
        T* gzr = gz + i * ldgz;
#pragma omp simd aligned(s : 64)
        for (int64_t j = 0; j < cols; ++j) {
          const T g = yr[j] <= T(0) ? T(0) : gyr[j];  // NaN in y passes the gradient, as PyTorch
          gzr[j] = g;
          s[j] += g;
        }
      } else {
#pragma omp simd aligned(s : 64)
        for (int64_t j = 0; j < cols; ++j) s[j] += yr[j] <= T(0) ? T(0) : gyr[j];
      }
    } else {
      if (gz) {
        T* gzr = gz + i * ldgz;
#pragma omp simd aligned(s : 64)
        for (int64_t j = 0; j < cols; ++j) {
          gzr[j] = gyr[j];
          s[j] += gyr[j];
        }
      } else {
#pragma omp simd aligned(s : 64)
        for (int64_t j = 0; j < cols; ++j) s[j] += gyr[j];
      }
    }
  }
  if (sum)
    for (int64_t j = 0; j < cols; ++j) sum[j] = s[j];
}

constexpr LinearKernelTable make_table() { return {&act_grad<float>, &act_grad<double>}; }

}  // namespace linear_k
}  // namespace PYFASTNN_ISA_NS
}  // namespace pyfastnn
#endif
