// Fully connected layer: y = act(x W^T + b) on the GEMM with its epilogue, and the fused
// backward.
//
// x is batch x in (row-major, leading dimension ldx), W is out x in (ldw), b has out values
// (or is null), y is batch x out (ldy). act is GemmActivation::none or relu (others run as a
// separate elementwise kernel after the layer).
//
// Backward, given gy = dL/dy (batch x out):
//   gz = gy * act'(y)        (relu: gy where y > 0, else 0; PyTorch's threshold_backward)
//   db = sum of gz over rows (in the same pass that writes gz)
//   dx = gz W                (batch x in)
//   dW = gz^T x              (out x in)
// Each of dx, dW, db is computed only when its pointer is non-null. Sums and products do
// not depend on the thread count (the results are bit-identical for any `num_threads`).
#pragma once
#include <cstdint>

#include "pyfastnn/gemm.h"

namespace pyfastnn {

template <class T>
struct LinearArgs {
  int64_t batch = 0, in = 0, out = 0;
  const T* x = nullptr;
  int64_t ldx = 0;
  const T* w = nullptr;
  int64_t ldw = 0;
  const T* bias = nullptr;  // out values, unit stride; null: no bias
  GemmActivation act = GemmActivation::none;
};

template <class T>
struct LinearGrads {
  T* dx = nullptr;  // batch x in, leading dimension lddx; null: not wanted
  int64_t lddx = 0;
  T* dw = nullptr;  // out x in, leading dimension lddw; null: not wanted
  int64_t lddw = 0;
  T* db = nullptr;  // out values; null: not wanted
};

void linear_forward(const LinearArgs<float>& a, float* y, int64_t ldy, int num_threads);
void linear_forward(const LinearArgs<double>& a, double* y, int64_t ldy, int num_threads);

// y (batch x out, ldy) is needed only when act != none (it may be null otherwise).
void linear_backward(const LinearArgs<float>& a, const float* y, int64_t ldy, const float* gy, int64_t ldgy,
                     const LinearGrads<float>& g, int num_threads);
void linear_backward(const LinearArgs<double>& a, const double* y, int64_t ldy, const double* gy, int64_t ldgy,
                     const LinearGrads<double>& g, int num_threads);

// The fused elementwise pass on its own: gz = gy * act'(y) over a rows x cols block (gz may
// be null: only the sums), and db[j] = sum_i gz[i, j] (db may be null). With act == none, y
// is not read and gz is a copy of gy.
void bias_act_backward(int64_t rows, int64_t cols, const float* y, int64_t ldy, const float* gy, int64_t ldgy,
                       float* gz, int64_t ldgz, float* db, GemmActivation act, int num_threads);
void bias_act_backward(int64_t rows, int64_t cols, const double* y, int64_t ldy, const double* gy, int64_t ldgy,
                       double* gz, int64_t ldgz, double* db, GemmActivation act, int num_threads);

}  // namespace pyfastnn
