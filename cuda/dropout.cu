// Dropout on the GPU: one splitmix64 hash per pair of elements, exactly the CPU's mask.
#include "common.cuh"
#include "pyfastnn_cuda/dropout.h"

namespace pyfastnn {
namespace cuda {
namespace {

constexpr uint64_t kGamma = 0x9E3779B97F4A7C15ull;
constexpr int kThreads = 256;

__host__ __device__ __forceinline__ uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

template <class T>
struct alignas(2 * sizeof(T)) Pair {
  T a, b;
};

// Pair j covers elements 2j (low 32 bits of the hash) and 2j + 1 (high 32 bits).
template <class T>
__global__ void __launch_bounds__(kThreads) dropout_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t n,
                                                            uint64_t key, uint32_t threshold, T scale, bool vec) {
  const int64_t pairs = (n + 1) / 2;
  for (int64_t j = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; j < pairs; j += int64_t(gridDim.x) * blockDim.x) {
    const uint64_t h = mix(key + static_cast<uint64_t>(j) * kGamma);
    const bool keep0 = static_cast<uint32_t>(h) >= threshold, keep1 = static_cast<uint32_t>(h >> 32) >= threshold;
    const int64_t i = 2 * j;
    if (vec && i + 1 < n) {
      Pair<T> v = reinterpret_cast<const Pair<T>*>(x)[j];
      v.a = keep0 ? v.a * scale : T(0);
      v.b = keep1 ? v.b * scale : T(0);
      reinterpret_cast<Pair<T>*>(y)[j] = v;
    } else {
      y[i] = keep0 ? x[i] * scale : T(0);
      if (i + 1 < n) y[i + 1] = keep1 ? x[i + 1] * scale : T(0);
    }
  }
}

__global__ void __launch_bounds__(kThreads) mask_kernel(uint8_t* __restrict__ mask, int64_t n, uint64_t key,
                                                         uint64_t threshold) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const uint64_t h = mix(key + static_cast<uint64_t>(i >> 1) * kGamma);
    const uint64_t u = (i & 1) ? (h >> 32) : (h & 0xFFFFFFFFull);
    mask[i] = u >= threshold ? 1 : 0;
  }
}

uint64_t threshold_of(double p) {  // floor(p 2^32); 2^32 for p = 1 (nothing kept)
  if (!(p > 0)) return 0;
  if (p >= 1) return uint64_t(1) << 32;
  return static_cast<uint64_t>(p * 4294967296.0);
}

template <class T>
bool forward_t(const void* x, void* y, int64_t n, double p, uint64_t seed, cudaStream_t s) {
  const uint64_t thr = threshold_of(p);
  if (thr >= (uint64_t(1) << 32)) {
    if (cudaMemsetAsync(y, 0, n * sizeof(T), s) != cudaSuccess) return launched();
    return true;
  }
  const bool vec = reinterpret_cast<std::uintptr_t>(x) % (2 * sizeof(T)) == 0 &&
                   reinterpret_cast<std::uintptr_t>(y) % (2 * sizeof(T)) == 0;
  const T scale = static_cast<T>(1.0 / (1.0 - p));
  PFN_LAUNCH(dropout_kernel<T>, grid_for((n + 1) / 2, kThreads), kThreads, 0, s, static_cast<const T*>(x),
             static_cast<T*>(y), n, mix(seed + kGamma), static_cast<uint32_t>(thr), scale, vec);
  return launched();
}

}  // namespace

bool dropout_forward(DType dtype, const void* x, void* y, int64_t n, double p, uint64_t seed, std::uintptr_t stream) {
  if (n <= 0) return true;
  return dtype == DType::f32 ? forward_t<float>(x, y, n, p, seed, as_stream(stream))
                             : forward_t<double>(x, y, n, p, seed, as_stream(stream));
}

bool dropout_mask(uint8_t* mask, int64_t n, double p, uint64_t seed, std::uintptr_t stream) {
  if (n <= 0) return true;
  PFN_LAUNCH(mask_kernel, grid_for(n, kThreads), kThreads, 0, as_stream(stream), mask, n, mix(seed + kGamma),
             threshold_of(p));
  return launched();
}

}  // namespace cuda
}  // namespace pyfastnn
