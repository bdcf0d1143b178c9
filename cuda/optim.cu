// Multi-tensor Adam/AdamW and SGD: a table of up to kMaxTensors tensors is passed by value
// (kernel parameter space, < 4 KB); the grid is the tensors' chunks of kChunk elements laid
// end to end, and each block finds its tensor in the table's chunk prefix sums.
#include <cmath>

#include "common.cuh"
#include "pyfastnn_cuda/optim.h"

namespace pyfastnn {
namespace cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kMaxTensors = 36;
constexpr int64_t kChunk = 1 << 16;  // elements per block

template <class T>
struct alignas(16) Vec {
  static constexpr int n = 16 / sizeof(T);
  T v[n];
};

struct AdamEntry {
  void* p;
  const void* g;
  void* m;
  void* v;
  void* vmax;
  int64_t n;
  double step_size;  // lr / (1 - beta1^step)
  double bc2_sqrt;   // sqrt(1 - beta2^step)
  int vec;           // every pointer 16-byte aligned
};

struct AdamTable {
  AdamEntry t[kMaxTensors];
  int chunk_start[kMaxTensors + 1];
  int count;
  double beta1, beta2, eps, weight_decay, decay;  // decay: 1 - lr * weight_decay (AdamW)
  bool amsgrad, maximize, decoupled;
};
static_assert(sizeof(AdamTable) < 4000, "kernel parameters are limited to 4 KB");

struct SgdEntry {
  void* p;
  const void* g;
  void* buf;
  int64_t n;
  int first;
  int vec;
};

struct SgdTable {
  SgdEntry t[kMaxTensors];
  int chunk_start[kMaxTensors + 1];
  int count;
  double lr, momentum, dampening, weight_decay;
  bool nesterov, maximize;
};
static_assert(sizeof(SgdTable) < 4000, "kernel parameters are limited to 4 KB");

// The tensor of block b (chunk_start: prefix sums of the tensors' chunk counts).
__device__ __forceinline__ int tensor_of(const int* chunk_start, int count, int b) {
  int i = 0;
  while (i + 1 < count && chunk_start[i + 1] <= b) ++i;
  return i;
}

template <class T>
__device__ __forceinline__ void adam_one(const AdamTable& h, const AdamEntry& e, T& p, T g, T& m, T& v, T* vmax) {
  if (h.maximize) g = -g;
  if (h.decoupled) p *= T(h.decay);
  else if (h.weight_decay != 0.0) g += T(h.weight_decay) * p;
  m = T(h.beta1) * m + T(1.0 - h.beta1) * g;
  v = T(h.beta2) * v + T(1.0 - h.beta2) * g * g;
  T vv = v;
  if (vmax) {
    const T old = *vmax;
    vv = (v > old || v != v) ? v : old;  // NaN propagates, as numpy.maximum
    *vmax = vv;
  }
  const T denom = sqrt(vv) / T(e.bc2_sqrt) + T(h.eps);
  p -= T(e.step_size) * m / denom;
}

template <class T>
__global__ void __launch_bounds__(kThreads) adam_kernel(AdamTable h) {
  const int ti = tensor_of(h.chunk_start, h.count, blockIdx.x);
  const AdamEntry& e = h.t[ti];
  const int64_t begin = int64_t(blockIdx.x - h.chunk_start[ti]) * kChunk;
  const int64_t end = begin + kChunk < e.n ? begin + kChunk : e.n;
  T* P = static_cast<T*>(e.p);
  const T* G = static_cast<const T*>(e.g);
  T* M = static_cast<T*>(e.m);
  T* V = static_cast<T*>(e.v);
  T* VM = static_cast<T*>(e.vmax);
  int64_t i = begin + threadIdx.x;
  if (e.vec && !VM) {  // 16-byte vectors over the whole chunks (begin is a multiple of kChunk)
    constexpr int W = Vec<T>::n;
    const int64_t vend = begin + (end - begin) / W * W;
    for (int64_t j = begin + int64_t(threadIdx.x) * W; j < vend; j += int64_t(blockDim.x) * W) {
      Vec<T> p = *reinterpret_cast<Vec<T>*>(P + j), m = *reinterpret_cast<Vec<T>*>(M + j),
             v = *reinterpret_cast<Vec<T>*>(V + j);
      const Vec<T> g = *reinterpret_cast<const Vec<T>*>(G + j);
#pragma unroll
      for (int k = 0; k < W; ++k) adam_one<T>(h, e, p.v[k], g.v[k], m.v[k], v.v[k], nullptr);
      *reinterpret_cast<Vec<T>*>(P + j) = p;
      *reinterpret_cast<Vec<T>*>(M + j) = m;
      *reinterpret_cast<Vec<T>*>(V + j) = v;
    }
    i = vend + threadIdx.x;
  }
  for (; i < end; i += blockDim.x) adam_one<T>(h, e, P[i], G[i], M[i], V[i], VM ? VM + i : nullptr);
}

template <class T>
__device__ __forceinline__ void sgd_one(const SgdTable& h, bool first, T& p, T g, T* buf) {
  T d = h.maximize ? -g : g;
  if (h.weight_decay != 0.0) d += T(h.weight_decay) * p;
  if (buf) {
    const T b = first ? d : T(h.momentum) * *buf + T(1.0 - h.dampening) * d;
    *buf = b;
    d = h.nesterov ? d + T(h.momentum) * b : b;
  }
  p -= T(h.lr) * d;
}

template <class T>
__global__ void __launch_bounds__(kThreads) sgd_kernel(SgdTable h) {
  const int ti = tensor_of(h.chunk_start, h.count, blockIdx.x);
  const SgdEntry& e = h.t[ti];
  const int64_t begin = int64_t(blockIdx.x - h.chunk_start[ti]) * kChunk;
  const int64_t end = begin + kChunk < e.n ? begin + kChunk : e.n;
  T* P = static_cast<T*>(e.p);
  const T* G = static_cast<const T*>(e.g);
  T* B = static_cast<T*>(e.buf);
  const bool first = e.first != 0;
  int64_t i = begin + threadIdx.x;
  if (e.vec) {
    constexpr int W = Vec<T>::n;
    const int64_t vend = begin + (end - begin) / W * W;
    for (int64_t j = begin + int64_t(threadIdx.x) * W; j < vend; j += int64_t(blockDim.x) * W) {
      Vec<T> p = *reinterpret_cast<Vec<T>*>(P + j), b;
      const Vec<T> g = *reinterpret_cast<const Vec<T>*>(G + j);
      if (B) b = *reinterpret_cast<Vec<T>*>(B + j);
#pragma unroll
      for (int k = 0; k < W; ++k) sgd_one<T>(h, first, p.v[k], g.v[k], B ? &b.v[k] : nullptr);
      *reinterpret_cast<Vec<T>*>(P + j) = p;
      if (B) *reinterpret_cast<Vec<T>*>(B + j) = b;
    }
    i = vend + threadIdx.x;
  }
  for (; i < end; i += blockDim.x) sgd_one<T>(h, first, P[i], G[i], B ? B + i : nullptr);
}

bool all_aligned(std::initializer_list<const void*> ptrs) {
  for (const void* p : ptrs)
    if (p && !aligned16(p)) return false;
  return true;
}

// Fills chunk_start for t[0 .. count); false if the grid would not fit an int.
template <class Entry>
bool chunk_table(const Entry* t, int count, int* chunk_start) {
  int64_t total = 0;
  chunk_start[0] = 0;
  for (int i = 0; i < count; ++i) {
    total += (t[i].n + kChunk - 1) / kChunk;
    if (total >= (int64_t(1) << 31)) return false;
    chunk_start[i + 1] = static_cast<int>(total);
  }
  return true;
}

template <class T>
bool adam_t(const std::vector<AdamTensor>& tensors, const AdamHyper& hy, cudaStream_t s) {
  AdamTable h{};
  h.beta1 = hy.beta1;
  h.beta2 = hy.beta2;
  h.eps = hy.eps;
  h.weight_decay = hy.weight_decay;
  h.decay = 1.0 - hy.lr * hy.weight_decay;
  h.amsgrad = hy.amsgrad;
  h.maximize = hy.maximize;
  h.decoupled = hy.decoupled;
  size_t next = 0;
  while (next < tensors.size()) {
    h.count = 0;
    for (; next < tensors.size() && h.count < kMaxTensors; ++next) {
      const AdamTensor& a = tensors[next];
      if (a.n <= 0) continue;
      AdamEntry& e = h.t[h.count++];
      e.p = a.param;
      e.g = a.grad;
      e.m = a.exp_avg;
      e.v = a.exp_avg_sq;
      e.vmax = hy.amsgrad ? a.max_exp_avg_sq : nullptr;
      e.n = a.n;
      e.step_size = hy.lr / (1.0 - std::pow(hy.beta1, a.step));
      e.bc2_sqrt = std::sqrt(1.0 - std::pow(hy.beta2, a.step));
      e.vec = all_aligned({e.p, e.g, e.m, e.v, e.vmax});
    }
    if (h.count == 0) break;
    if (!chunk_table(h.t, h.count, h.chunk_start)) {
      record_error(cudaErrorInvalidValue);
      return false;
    }
    PFN_LAUNCH(adam_kernel<T>, h.chunk_start[h.count], kThreads, 0, s, h);
    if (!launched()) return false;
  }
  return true;
}

template <class T>
bool sgd_t(const std::vector<SgdTensor>& tensors, const SgdHyper& hy, cudaStream_t s) {
  SgdTable h{};
  h.lr = hy.lr;
  h.momentum = hy.momentum;
  h.dampening = hy.dampening;
  h.weight_decay = hy.weight_decay;
  h.nesterov = hy.nesterov;
  h.maximize = hy.maximize;
  size_t next = 0;
  while (next < tensors.size()) {
    h.count = 0;
    for (; next < tensors.size() && h.count < kMaxTensors; ++next) {
      const SgdTensor& a = tensors[next];
      if (a.n <= 0) continue;
      SgdEntry& e = h.t[h.count++];
      e.p = a.param;
      e.g = a.grad;
      e.buf = hy.momentum != 0.0 ? a.momentum_buffer : nullptr;
      e.n = a.n;
      e.first = a.first ? 1 : 0;
      e.vec = all_aligned({e.p, e.g, e.buf});
    }
    if (h.count == 0) break;
    if (!chunk_table(h.t, h.count, h.chunk_start)) {
      record_error(cudaErrorInvalidValue);
      return false;
    }
    PFN_LAUNCH(sgd_kernel<T>, h.chunk_start[h.count], kThreads, 0, s, h);
    if (!launched()) return false;
  }
  return true;
}

}  // namespace

bool adam_step(DType dtype, const std::vector<AdamTensor>& tensors, const AdamHyper& h, std::uintptr_t stream) {
  return dtype == DType::f32 ? adam_t<float>(tensors, h, as_stream(stream))
                             : adam_t<double>(tensors, h, as_stream(stream));
}

bool sgd_step(DType dtype, const std::vector<SgdTensor>& tensors, const SgdHyper& h, std::uintptr_t stream) {
  return dtype == DType::f32 ? sgd_t<float>(tensors, h, as_stream(stream))
                             : sgd_t<double>(tensors, h, as_stream(stream));
}

}  // namespace cuda
}  // namespace pyfastnn
