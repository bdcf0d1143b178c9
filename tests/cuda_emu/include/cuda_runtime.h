// CPU emulator of the CUDA runtime subset pyfastnn's kernels use (tests only).
//
// Kernels compile as plain C++; a launch runs the grid's blocks one after another, each
// block's threads as cooperative fibers (ucontext) on the calling thread. __syncthreads
// and the warp collectives (__shfl_xor_sync, __syncwarp) are barriers of the fiber
// scheduler, so the kernels' shared-memory and warp logic runs as written; a barrier that
// can never complete (a __syncthreads some threads skip) aborts with a message.
// __shared__ variables are function statics: correct because blocks never overlap.
#pragma once
#include <ucontext.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __restrict__ __restrict
#define __launch_bounds__(...)
#define __shared__ static
#define __align__(n) __attribute__((aligned(n)))
#ifndef __CUDA_ARCH__
#define __CUDA_ARCH__ 800
#endif
#define PYFASTNN_CUDA_EMULATOR 1

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

struct __attribute__((aligned(16))) float4 {
  float x, y, z, w;
};
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }

using cudaStream_t = struct CUstream_st*;
enum cudaError_t { cudaSuccess = 0, cudaErrorInvalidValue = 1, cudaErrorNotSupported = 801, cudaErrorLaunchFailure = 719 };
enum cudaDeviceAttr {
  cudaDevAttrMultiProcessorCount = 16,
  cudaDevAttrComputeCapabilityMajor = 75,
  cudaDevAttrComputeCapabilityMinor = 76
};
struct cudaDeviceProp {
  char name[256];
};

namespace emu {

constexpr size_t kStack = 256 * 1024;

struct Fiber {
  ucontext_t ctx;
  std::vector<char> stack;
  dim3 tid;
  int linear = 0;
  bool done = false;
  int waiting = 0;  // 0 runnable, 1 block barrier, 2 warp barrier
  uint64_t barrier_gen = 0;
};

struct Block {
  std::vector<Fiber> fibers;
  ucontext_t sched;
  Fiber* current = nullptr;
  dim3 block_idx, block_dim, grid_dim;
  int nthreads = 0;
  // barriers: arrivals per generation
  int block_arrived = 0;
  uint64_t block_gen = 0;
  std::vector<int> warp_arrived;
  std::vector<uint64_t> warp_gen;
  std::vector<uint64_t> shfl;  // one 8-byte slot per thread
  std::function<void()> body;
};

inline Block& blk() {
  static Block b;
  return b;
}

inline int& error_flag() {
  static int e = 0;
  return e;
}

[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "cuda emulator: %s (block %u,%u thread %d)\n", what, blk().block_idx.x, blk().block_idx.y,
               blk().current ? blk().current->linear : -1);
  std::abort();
}

inline void yield_to_scheduler() {
  Block& b = blk();
  Fiber* f = b.current;
  swapcontext(&f->ctx, &b.sched);
}

inline int live_in_warp(int warp) {
  Block& b = blk();
  int n = 0;
  for (int i = warp * 32; i < std::min(b.nthreads, warp * 32 + 32); ++i) n += !b.fibers[i].done;
  return n;
}

inline int live_threads() {
  int n = 0;
  for (auto& f : blk().fibers) n += !f.done;
  return n;
}

inline void syncthreads() {
  Block& b = blk();
  Fiber* f = b.current;
  const uint64_t gen = b.block_gen;
  if (++b.block_arrived == live_threads()) {  // last one in: release everyone
    b.block_arrived = 0;
    ++b.block_gen;
    for (auto& g : b.fibers)
      if (g.waiting == 1) g.waiting = 0;
    return;
  }
  f->waiting = 1;
  f->barrier_gen = gen;
  yield_to_scheduler();
}

inline void syncwarp() {
  Block& b = blk();
  Fiber* f = b.current;
  const int w = f->linear / 32;
  if (++b.warp_arrived[w] == live_in_warp(w)) {
    b.warp_arrived[w] = 0;
    ++b.warp_gen[w];
    for (int i = w * 32; i < std::min(b.nthreads, w * 32 + 32); ++i)
      if (b.fibers[i].waiting == 2) b.fibers[i].waiting = 0;
    return;
  }
  f->waiting = 2;
  yield_to_scheduler();
}

inline void trampoline(unsigned lo, unsigned hi) {
  Fiber* f = reinterpret_cast<Fiber*>((uintptr_t(hi) << 32) | uintptr_t(lo));
  blk().body();
  f->done = true;
  // a thread leaving counts as arrived at any barrier still waiting for it
  Block& b = blk();
  if (b.block_arrived > 0 && b.block_arrived == live_threads()) {
    b.block_arrived = 0;
    ++b.block_gen;
    for (auto& g : b.fibers)
      if (g.waiting == 1) g.waiting = 0;
  }
  const int w = f->linear / 32;
  if (b.warp_arrived[w] > 0 && b.warp_arrived[w] == live_in_warp(w)) {
    b.warp_arrived[w] = 0;
    for (int i = w * 32; i < std::min(b.nthreads, w * 32 + 32); ++i)
      if (b.fibers[i].waiting == 2) b.fibers[i].waiting = 0;
  }
}

inline void run_block(const dim3& bidx, const dim3& bdim, const dim3& gdim, std::function<void()> body) {
  Block& b = blk();
  b.block_idx = bidx;
  b.block_dim = bdim;
  b.grid_dim = gdim;
  b.nthreads = int(bdim.x * bdim.y * bdim.z);
  if (int(b.fibers.size()) < b.nthreads) b.fibers.resize(b.nthreads);
  b.block_arrived = 0;
  b.warp_arrived.assign((b.nthreads + 31) / 32, 0);
  b.warp_gen.assign((b.nthreads + 31) / 32, 0);
  b.shfl.assign(b.nthreads, 0);
  b.body = std::move(body);
  for (int i = 0; i < b.nthreads; ++i) {
    Fiber& f = b.fibers[i];
    if (f.stack.empty()) f.stack.resize(kStack);
    f.linear = i;
    f.tid = dim3(i % bdim.x, (i / bdim.x) % bdim.y, i / (bdim.x * bdim.y));
    f.done = false;
    f.waiting = 0;
    getcontext(&f.ctx);
    f.ctx.uc_stack.ss_sp = f.stack.data();
    f.ctx.uc_stack.ss_size = f.stack.size();
    f.ctx.uc_link = &b.sched;
    const uintptr_t p = reinterpret_cast<uintptr_t>(&f);
    makecontext(&f.ctx, reinterpret_cast<void (*)()>(&trampoline), 2, unsigned(p & 0xffffffffu), unsigned(p >> 32));
  }
  int live = b.nthreads;
  bool forward = true;  // sweeps alternate direction: a missing barrier shows in either order
  while (live > 0) {
    bool progressed = false;
    live = 0;
    for (int j = 0; j < b.nthreads; ++j) {
      Fiber& f = b.fibers[forward ? j : b.nthreads - 1 - j];
      if (f.done) continue;
      if (f.waiting == 0) {
        b.current = &f;
        swapcontext(&b.sched, &f.ctx);
        b.current = nullptr;
        progressed = true;
      }
      live += !f.done;
    }
    if (live > 0 && !progressed) fail("deadlock: threads wait at barriers that can never complete");
    forward = !forward;
  }
}

template <class... Args, class... Actual>
void launch(void (*kernel)(Args...), dim3 grid, dim3 block, Actual&&... args) {
  if (block.x * block.y * block.z == 0 || block.x * block.y * block.z > 1024 || grid.x == 0 || grid.y == 0 ||
      grid.z == 0 || grid.y > 65535 || grid.z > 65535) {
    error_flag() = cudaErrorInvalidValue;
    return;
  }
  std::tuple<std::decay_t<Args>...> params(std::forward<Actual>(args)...);
  for (unsigned z = 0; z < grid.z; ++z)
    for (unsigned y = 0; y < grid.y; ++y)
      for (unsigned x = 0; x < grid.x; ++x)
        run_block(dim3(x, y, z), block, grid, [&] { std::apply(kernel, params); });
}

}  // namespace emu

#define threadIdx (::emu::blk().current->tid)
#define blockIdx (::emu::blk().block_idx)
#define blockDim (::emu::blk().block_dim)
#define gridDim (::emu::blk().grid_dim)
#define PFN_LAUNCH(kernel, grid, block, smem, stream, ...) ::emu::launch(kernel, dim3(grid), dim3(block), __VA_ARGS__)

inline void __syncthreads() { emu::syncthreads(); }
inline void __syncwarp(unsigned = 0xffffffffu) { emu::syncwarp(); }

template <class T>
T __shfl_xor_sync(unsigned, T v, int lane_mask, int = 32) {
  static_assert(sizeof(T) <= 8, "shuffle of at most 8 bytes");
  emu::Block& b = emu::blk();
  const int me = b.current->linear;
  uint64_t slot = 0;
  std::memcpy(&slot, &v, sizeof(T));
  b.shfl[me] = slot;
  emu::syncwarp();
  const int other = (me & ~31) | ((me & 31) ^ lane_mask);
  T r;
  const uint64_t got = other < b.nthreads ? b.shfl[other] : slot;
  std::memcpy(&r, &got, sizeof(T));
  emu::syncwarp();
  return r;
}

template <class T>
T __ldg(const T* p) {
  return *p;
}

using std::max;
using std::min;

inline cudaError_t cudaGetLastError() {
  const int e = emu::error_flag();
  emu::error_flag() = 0;
  return cudaError_t(e);
}
inline const char* cudaGetErrorString(cudaError_t e) {
  return e == cudaSuccess ? "no error" : (e == cudaErrorInvalidValue ? "invalid argument (emulator)" : "emulator error");
}
inline cudaError_t cudaGetDevice(int* d) {
  *d = 0;
  return cudaSuccess;
}
inline cudaError_t cudaGetDeviceCount(int* n) {
  *n = 1;
  return cudaSuccess;
}
inline cudaError_t cudaDeviceGetAttribute(int* v, cudaDeviceAttr a, int) {
  *v = a == cudaDevAttrMultiProcessorCount ? 4 : (a == cudaDevAttrComputeCapabilityMajor ? 8 : 0);
  return cudaSuccess;
}
inline cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int) {
  std::snprintf(p->name, sizeof(p->name), "pyfastnn CPU emulator");
  return cudaSuccess;
}
inline cudaError_t cudaRuntimeGetVersion(int* v) {
  *v = 13000;
  return cudaSuccess;
}
inline cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }
inline cudaError_t cudaMemsetAsync(void* p, int v, size_t n, cudaStream_t) {
  std::memset(p, v, n);
  return cudaSuccess;
}
