// Softmax entry points: float32 goes to the active ISA's table (avx512_emulated: the
// 16-lane generic-vector table), float64 to the accurate (libm) instantiation compiled here.
#define PYFASTNN_ISA_NS accurate
#define PYFASTNN_SOFTMAX_W 4  // 2 doubles per vector, libm exp per lane
#include "softmax/softmax_impl.h"

#include "pyfastnn/isa.h"

namespace pyfastnn {
namespace {
const SoftmaxKernelTable& table() {
  if (active_isa() == Isa::avx512_emulated) return softmax_kernels_avx512_emulated;
  return PYFASTNN_ISA_SELECT(softmax_kernels);
}
}  // namespace

void softmax_forward(const float* x, float* y, int64_t rows, int64_t cols, int num_threads) {
  table().softmax_forward(x, y, rows, cols, num_threads);
}
void softmax_forward(const double* x, double* y, int64_t rows, int64_t cols, int num_threads) {
  accurate::softmax_forward<double>(x, y, rows, cols, num_threads);
}
void softmax_backward(const float* y, const float* gy, float* gx, int64_t rows, int64_t cols, int num_threads) {
  table().softmax_backward(y, gy, gx, rows, cols, num_threads);
}
void softmax_backward(const double* y, const double* gy, double* gx, int64_t rows, int64_t cols, int num_threads) {
  accurate::softmax_backward<double>(y, gy, gx, rows, cols, num_threads);
}
void log_softmax_forward(const float* x, float* y, int64_t rows, int64_t cols, int num_threads) {
  table().log_softmax_forward(x, y, rows, cols, num_threads);
}
void log_softmax_forward(const double* x, double* y, int64_t rows, int64_t cols, int num_threads) {
  accurate::log_softmax_forward<double>(x, y, rows, cols, num_threads);
}
void log_softmax_backward(const float* y, const float* gy, float* gx, int64_t rows, int64_t cols, int num_threads) {
  table().log_softmax_backward(y, gy, gx, rows, cols, num_threads);
}
void log_softmax_backward(const double* y, const double* gy, double* gx, int64_t rows, int64_t cols,
                          int num_threads) {
  accurate::log_softmax_backward<double>(y, gy, gx, rows, cols, num_threads);
}

void softmax_xent_forward(const XentArgs<float>& args, float* row_loss, float* stats, int num_threads) {
  table().xent_forward(args, row_loss, stats, num_threads);
}
void softmax_xent_forward(const XentArgs<double>& args, double* row_loss, double* stats, int num_threads) {
  accurate::softmax_xent_forward<double>(args, row_loss, stats, num_threads);
}
void softmax_xent_backward(const XentArgs<float>& args, const float* stats, float scale, const float* row_scale,
                           float* dlogits, int num_threads) {
  table().xent_backward(args, stats, scale, row_scale, dlogits, num_threads);
}
void softmax_xent_backward(const XentArgs<double>& args, const double* stats, double scale,
                           const double* row_scale, double* dlogits, int num_threads) {
  accurate::softmax_xent_backward<double>(args, stats, scale, row_scale, dlogits, num_threads);
}

}  // namespace pyfastnn
