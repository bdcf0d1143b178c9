// Linear layer: the forward GEMM with its bias/activation epilogue, and the backward pass
// (fused gz/db pass, then the dx and dW GEMMs), threading and the run-time ISA choice.
#include "pyfastnn/linear.h"

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <new>
#include <vector>

#include "linear/linear_impl.h"
#include "pyfastnn/isa.h"

namespace pyfastnn {
namespace {

// Work units of the gz/db pass: column blocks of kBlockCols (a few cache lines per row,
// wide enough for whole vectors) times row chunks of kChunkRows. The row chunks' partial
// sums are added in a fixed order, so db does not depend on the thread count, and each
// partial sum runs over at most kChunkRows values (float32 error grows with that count).
constexpr int64_t kBlockCols = 64;
constexpr int64_t kChunkRows = 256;
static_assert(kBlockCols <= kLinearMaxBlockCols, "a block's sums must fit the kernel's local array");
// Fewest elements worth a second thread (waking one costs a few microseconds).
constexpr int64_t kParallelElements = int64_t(1) << 16;

const LinearKernelTable& table() { return PYFASTNN_ISA_SELECT(linear_kernels); }
LinearActGradFn<float> act_grad_fn(float*) { return table().act_grad_f32; }
LinearActGradFn<double> act_grad_fn(double*) { return table().act_grad_f64; }

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

template <class T>
std::unique_ptr<T, FreeDeleter> alloc_array(int64_t count) {
  const std::size_t bytes = (static_cast<std::size_t>(count) * sizeof(T) + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, bytes > 0 ? bytes : 64);
  if (!p) throw std::bad_alloc();
  return std::unique_ptr<T, FreeDeleter>(static_cast<T*>(p));
}

template <class T>
void bias_act_backward_impl(int64_t rows, int64_t cols, const T* y, int64_t ldy, const T* gy, int64_t ldgy, T* gz,
                            int64_t ldgz, T* db, GemmActivation act, int num_threads) {
  if (cols <= 0) return;
  if (rows <= 0) {
    if (db) std::fill(db, db + cols, T(0));
    return;
  }
  if (!gz && !db) return;
  const auto fn = act_grad_fn(static_cast<T*>(nullptr));
  const int a = static_cast<int>(act);
  const int64_t col_blocks = (cols + kBlockCols - 1) / kBlockCols;
  const int64_t chunks = (rows + kChunkRows - 1) / kChunkRows;
  // one row chunk: sums straight into db; more: partial sums per chunk, added in order
  std::unique_ptr<T, FreeDeleter> partial;
  if (db && chunks > 1) partial = alloc_array<T>(chunks * cols);
  T* sums = chunks > 1 ? partial.get() : db;
  const int64_t units = col_blocks * chunks;
  auto unit = [&](int64_t u) {
    const int64_t cb = u % col_blocks, rc = u / col_blocks;
    const int64_t c0 = cb * kBlockCols, ncols = std::min(kBlockCols, cols - c0);
    const int64_t r0 = rc * kChunkRows, nrows = std::min(kChunkRows, rows - r0);
    fn(nrows, ncols, y ? y + r0 * ldy + c0 : nullptr, ldy, gy + r0 * ldgy + c0, ldgy, gz ? gz + r0 * ldgz + c0 : nullptr,
       ldgz, sums ? sums + rc * cols + c0 : nullptr, a);
  };
  const int64_t by_size = rows * cols / kParallelElements;
  const int threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>({num_threads, units, by_size})));
  if (threads > 1) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t u = 0; u < units; ++u) unit(u);
  } else {
    for (int64_t u = 0; u < units; ++u) unit(u);
  }
  if (db && chunks > 1) {
    for (int64_t j = 0; j < cols; ++j) {
      double s = 0;
      for (int64_t rc = 0; rc < chunks; ++rc) s += static_cast<double>(sums[rc * cols + j]);
      db[j] = static_cast<T>(s);
    }
  }
}

template <class T>
void linear_forward_impl(const LinearArgs<T>& a, T* y, int64_t ldy, int num_threads) {
  GemmArgs<T> g;
  g.trans_b = true;  // y = x W^T with W stored out x in
  g.m = a.batch;
  g.n = a.out;
  g.k = a.in;
  g.a = a.x;
  g.lda = a.ldx;
  g.b = a.w;
  g.ldb = a.ldw;
  g.c = y;
  g.ldc = ldy;
  g.bias = a.bias;
  g.act = a.act;
  gemm(g, num_threads);
}

template <class T>
void linear_backward_impl(const LinearArgs<T>& a, const T* y, int64_t ldy, const T* gy, int64_t ldgy,
                          const LinearGrads<T>& grads, int num_threads) {
  const bool need_gz = grads.dx || grads.dw;
  // gz: gy itself without an activation; otherwise a fresh batch x out array
  const T* gz = gy;
  int64_t ldgz = ldgy;
  std::unique_ptr<T, FreeDeleter> gz_store;
  if (a.act != GemmActivation::none) {
    if (need_gz && a.batch > 0 && a.out > 0) {
      gz_store = alloc_array<T>(a.batch * a.out);
      ldgz = a.out;
    }
    bias_act_backward_impl<T>(a.batch, a.out, y, ldy, gy, ldgy, gz_store.get(), ldgz, grads.db, a.act, num_threads);
    if (gz_store) gz = gz_store.get();
  } else if (grads.db) {
    bias_act_backward_impl<T>(a.batch, a.out, nullptr, 0, gy, ldgy, nullptr, 0, grads.db, a.act, num_threads);
  }
  GemmArgs<T> gx, gw;
  if (grads.dx) {  // dx = gz W: (batch x out) (out x in)
    GemmArgs<T>& g = gx;
    g.m = a.batch;
    g.n = a.in;
    g.k = a.out;
    g.a = gz;
    g.lda = ldgz;
    g.b = a.w;
    g.ldb = a.ldw;
    g.c = grads.dx;
    g.ldc = grads.lddx;
  }
  if (grads.dw) {  // dW = gz^T x: (out x batch) (batch x in), gz read transposed
    GemmArgs<T>& g = gw;
    g.trans_a = true;
    g.m = a.out;
    g.n = a.in;
    g.k = a.batch;
    g.a = gz;
    g.lda = ldgz;
    g.b = a.x;
    g.ldb = a.ldx;
    g.c = grads.dw;
    g.ldc = grads.lddw;
  }
  // dx and dW always take the same number of flops (2 batch in out). On two threads they
  // run side by side, one thread each: a GEMM split over two threads runs each half less
  // efficiently (shared panels, synchronisation), most of all at training sizes. More
  // threads would need nested parallelism inside each GEMM, so they split each GEMM instead;
  // so do products too small to be worth waking a second thread for (about 1 MFLOP).
  const double flops = 2.0 * double(a.batch) * double(a.in) * double(a.out);
  if (grads.dx && grads.dw && num_threads == 2 && flops >= 1.0e6) {
#pragma omp parallel num_threads(2)
    {
      if (omp_get_thread_num() == 0)
        gemm(gx, 1);
      else
        gemm(gw, 1);
    }
    return;
  }
  if (grads.dx) gemm(gx, num_threads);
  if (grads.dw) gemm(gw, num_threads);
}

}  // namespace

void linear_forward(const LinearArgs<float>& a, float* y, int64_t ldy, int num_threads) {
  linear_forward_impl(a, y, ldy, num_threads);
}
void linear_forward(const LinearArgs<double>& a, double* y, int64_t ldy, int num_threads) {
  linear_forward_impl(a, y, ldy, num_threads);
}
void linear_backward(const LinearArgs<float>& a, const float* y, int64_t ldy, const float* gy, int64_t ldgy,
                     const LinearGrads<float>& g, int num_threads) {
  linear_backward_impl(a, y, ldy, gy, ldgy, g, num_threads);
}
void linear_backward(const LinearArgs<double>& a, const double* y, int64_t ldy, const double* gy, int64_t ldgy,
                     const LinearGrads<double>& g, int num_threads) {
  linear_backward_impl(a, y, ldy, gy, ldgy, g, num_threads);
}
void bias_act_backward(int64_t rows, int64_t cols, const float* y, int64_t ldy, const float* gy, int64_t ldgy,
                       float* gz, int64_t ldgz, float* db, GemmActivation act, int num_threads) {
  bias_act_backward_impl(rows, cols, y, ldy, gy, ldgy, gz, ldgz, db, act, num_threads);
}
void bias_act_backward(int64_t rows, int64_t cols, const double* y, int64_t ldy, const double* gy, int64_t ldgy,
                       double* gz, int64_t ldgz, double* db, GemmActivation act, int num_threads) {
  bias_act_backward_impl(rows, cols, y, ldy, gy, ldgy, gz, ldgz, db, act, num_threads);
}

}  // namespace pyfastnn
