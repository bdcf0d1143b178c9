// Elementwise activations (forward, backward) and the linear layer's bias/activation backward.
// Memory-bound: 16-byte vector loads where the pointers allow, grid-stride loops, the
// activation kind a uniform switch.
#include "act_math.cuh"
#include "common.cuh"
#include "pyfastnn_cuda/activation.h"

namespace pyfastnn {
namespace cuda {
namespace {

constexpr int kThreads = 256;

template <class T>
struct alignas(16) Vec {
  static constexpr int n = 16 / sizeof(T);
  T v[n];
};

// y = f(x): vectors over the first n / VEC * VEC elements when `vec`, then the tail.
template <class T>
__global__ void __launch_bounds__(kThreads) forward_kernel(ActKind kind, const T* __restrict__ x, T* __restrict__ y,
                                                            int64_t n, T a, T b, bool vec) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  int64_t done = 0;
  if (vec) {
    constexpr int V = Vec<T>::n;
    const int64_t nv = n / V;
    for (int64_t j = i; j < nv; j += stride) {
      Vec<T> t = reinterpret_cast<const Vec<T>*>(x)[j];
#pragma unroll
      for (int e = 0; e < V; ++e) t.v[e] = act::forward(kind, t.v[e], a, b);
      reinterpret_cast<Vec<T>*>(y)[j] = t;
    }
    done = nv * V;
  }
  for (int64_t j = done + i; j < n; j += stride) y[j] = act::forward(kind, x[j], a, b);
}

template <class T>
__global__ void __launch_bounds__(kThreads) backward_kernel(ActKind kind, const T* __restrict__ v,
                                                             const T* __restrict__ gy, T* __restrict__ gx, int64_t n,
                                                             bool from_y, T a, T b, bool vec) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  int64_t done = 0;
  if (vec) {
    constexpr int V = Vec<T>::n;
    const int64_t nv = n / V;
    for (int64_t j = i; j < nv; j += stride) {
      const Vec<T> tv = reinterpret_cast<const Vec<T>*>(v)[j];
      Vec<T> tg = reinterpret_cast<const Vec<T>*>(gy)[j];
#pragma unroll
      for (int e = 0; e < V; ++e) tg.v[e] = tg.v[e] * act::derivative(kind, tv.v[e], from_y, a, b);
      reinterpret_cast<Vec<T>*>(gx)[j] = tg;
    }
    done = nv * V;
  }
  for (int64_t j = done + i; j < n; j += stride) gx[j] = gy[j] * act::derivative(kind, v[j], from_y, a, b);
}

// gz = gy * act'(y) and db = column sums of gz. Block: 32 columns x 8 row lanes; each
// (column, lane) sums a strided set of rows, then the 8 lanes are added in a fixed order
// (deterministic).
constexpr int kColTile = 32, kRowLanes = 8;

template <class T>
__global__ void __launch_bounds__(kColTile* kRowLanes)
    bias_act_backward_kernel(bool relu, const T* __restrict__ y, int64_t ldy, const T* __restrict__ gy, int64_t ldg,
                             T* __restrict__ gz, int64_t ldz, T* __restrict__ db, int64_t rows, int64_t cols) {
  __shared__ T partial[kRowLanes][kColTile];
  const int tx = threadIdx.x % kColTile, ty = threadIdx.x / kColTile;
  for (int64_t c0 = int64_t(blockIdx.x) * kColTile; c0 < cols; c0 += int64_t(gridDim.x) * kColTile) {
    const int64_t c = c0 + tx;
    T sum = T(0);
    if (c < cols) {
      for (int64_t r = ty; r < rows; r += kRowLanes) {
        T g = gy[r * ldg + c];
        if (relu) {
          g = y[r * ldy + c] <= T(0) ? T(0) : g;  // NaN in y passes gy, as PyTorch
          gz[r * ldz + c] = g;
        }
        sum += g;
      }
    }
    if (db) {
      partial[ty][tx] = sum;
      __syncthreads();
      if (ty == 0 && c < cols) {
        T s = partial[0][tx];
#pragma unroll
        for (int k = 1; k < kRowLanes; ++k) s += partial[k][tx];
        db[c] = s;
      }
      __syncthreads();
    }
  }
}

template <class T>
bool forward_t(ActKind kind, const void* x, void* y, int64_t n, double alpha, double beta, cudaStream_t s) {
  const bool vec = aligned16(x) && aligned16(y);
  const int64_t work = vec ? n / Vec<T>::n + n % Vec<T>::n : n;
  PFN_LAUNCH(forward_kernel<T>, grid_for(work, kThreads), kThreads, 0, s, kind, static_cast<const T*>(x),
             static_cast<T*>(y), n, T(alpha), T(beta), vec);
  return launched();
}

template <class T>
bool backward_t(ActKind kind, const void* v, bool from_y, const void* gy, void* gx, int64_t n, double alpha,
                double beta, cudaStream_t s) {
  const bool vec = aligned16(v) && aligned16(gy) && aligned16(gx);
  const int64_t work = vec ? n / Vec<T>::n + n % Vec<T>::n : n;
  PFN_LAUNCH(backward_kernel<T>, grid_for(work, kThreads), kThreads, 0, s, kind, static_cast<const T*>(v),
             static_cast<const T*>(gy), static_cast<T*>(gx), n, from_y, T(alpha), T(beta), vec);
  return launched();
}

template <class T>
bool bias_act_backward_t(bool relu, const void* y, int64_t ldy, const void* gy, int64_t ldg, void* gz, int64_t ldz,
                         void* db, int64_t rows, int64_t cols, cudaStream_t s) {
  const int64_t tiles = (cols + kColTile - 1) / kColTile;
  const unsigned grid = static_cast<unsigned>(tiles < (int64_t(1) << 30) ? tiles : (int64_t(1) << 30));
  PFN_LAUNCH(bias_act_backward_kernel<T>, grid, kColTile * kRowLanes, 0, s, relu, static_cast<const T*>(y), ldy,
             static_cast<const T*>(gy), ldg, static_cast<T*>(gz), ldz, static_cast<T*>(db), rows, cols);
  return launched();
}

}  // namespace

bool activation_forward(ActKind kind, DType dtype, const void* x, void* y, int64_t n, double alpha, double beta,
                        std::uintptr_t stream) {
  if (n <= 0) return true;
  return dtype == DType::f32 ? forward_t<float>(kind, x, y, n, alpha, beta, as_stream(stream))
                             : forward_t<double>(kind, x, y, n, alpha, beta, as_stream(stream));
}

bool activation_backward(ActKind kind, DType dtype, const void* v, bool from_y, const void* gy, void* gx, int64_t n,
                         double alpha, double beta, std::uintptr_t stream) {
  if (n <= 0) return true;
  return dtype == DType::f32 ? backward_t<float>(kind, v, from_y, gy, gx, n, alpha, beta, as_stream(stream))
                             : backward_t<double>(kind, v, from_y, gy, gx, n, alpha, beta, as_stream(stream));
}

bool bias_act_backward(ActKind act, DType dtype, const void* y, int64_t ldy, const void* gy, int64_t ldg, void* gz,
                       int64_t ldz, void* db, int64_t rows, int64_t cols, std::uintptr_t stream) {
  const bool relu = act == ActKind::relu;
  if (rows <= 0 || cols <= 0) {
    if (db && cols > 0) {  // sums over no rows
      const cudaError_t err = cudaMemsetAsync(db, 0, cols * (dtype == DType::f32 ? 4 : 8), as_stream(stream));
      if (err != cudaSuccess) {
        record_error(err);
        return false;
      }
    }
    return true;
  }
  if (!relu && !db) return true;  // nothing to compute: gz is gy
  return dtype == DType::f32
             ? bias_act_backward_t<float>(relu, y, ldy, gy, ldg, gz, ldz, db, rows, cols, as_stream(stream))
             : bias_act_backward_t<double>(relu, y, ldy, gy, ldg, gz, ldz, db, rows, cols, as_stream(stream));
}

}  // namespace cuda
}  // namespace pyfastnn
