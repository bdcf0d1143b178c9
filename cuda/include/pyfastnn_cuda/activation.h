// Elementwise activations: the kinds of pyfastnn/backends/reference/activation.py, with the
// same parameters (alpha, beta) and the same derivatives at kinks and at NaN.
#pragma once
#include <cstdint>

namespace pyfastnn {
namespace cuda {

// Same order as ACTIVATION_KINDS in the reference (the Python layer maps names to these).
enum class ActKind : int {
  relu = 0, relu6, hardtanh, leaky_relu, elu, selu, gelu, gelu_tanh, silu, sigmoid, tanh, softplus, hardswish,
  hardsigmoid,
  none = 100,  // identity (GEMM epilogues only)
};

enum class DType : int { f32 = 0, f64 = 1 };

// y[i] = f(x[i]) for i < n; x may equal y.
bool activation_forward(ActKind kind, DType dtype, const void* x, void* y, int64_t n, double alpha, double beta,
                        std::uintptr_t stream);

// gx[i] = gy[i] * f'(.) computed from v = x (from_y false) or v = y (from_y true), as the
// reference's activation_backward; gx may equal gy.
bool activation_backward(ActKind kind, DType dtype, const void* v, bool from_y, const void* gy, void* gx, int64_t n,
                         double alpha, double beta, std::uintptr_t stream);

// Backward of the fused linear layer's epilogue: gz = gy * act'(y) (act none or relu; gz may
// be gy when act is none and then is not written) and db[j] = sum_i gz[i, j] (db may be
// null). y, gy, gz: rows x cols with row strides ldy, ldg, ldz.
bool bias_act_backward(ActKind act, DType dtype, const void* y, int64_t ldy, const void* gy, int64_t ldg, void* gz,
                       int64_t ldz, void* db, int64_t rows, int64_t cols, std::uintptr_t stream);

}  // namespace cuda
}  // namespace pyfastnn
