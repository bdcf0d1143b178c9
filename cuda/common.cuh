// Helpers shared by the kernel sources (not by the bindings, which never see CUDA headers):
// launch configuration, launch error reporting, warp and block reductions.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "pyfastnn_cuda/runtime.h"

namespace pyfastnn {
namespace cuda {

void record_error(cudaError_t err);  // device_info.cu

inline cudaStream_t as_stream(std::uintptr_t s) { return reinterpret_cast<cudaStream_t>(s); }

// Multiprocessors of the current device (cached per device: launches size their grids from it).
int sm_count();
// Compute capability major * 10 + minor of the current device (cached), 0 if unknown.
int compute_capability();

// True if the last launch succeeded; else records the error (see last_error()).
inline bool launched() {
  const cudaError_t err = cudaGetLastError();
  if (err == cudaSuccess) return true;
  record_error(err);
  return false;
}

// Blocks for a grid-stride loop over `work` items of `per_block` each: enough to fill the GPU
// (a few waves of resident blocks) without launching one block per item of a huge array.
inline unsigned grid_for(int64_t work, int per_block, int blocks_per_sm = 8) {
  if (work <= 0) return 1;
  const int64_t want = (work + per_block - 1) / per_block;
  const int64_t cap = int64_t(sm_count()) * blocks_per_sm;
  return static_cast<unsigned>(want < cap ? want : cap);
}

inline bool aligned16(const void* p) { return (reinterpret_cast<std::uintptr_t>(p) & 15u) == 0; }

constexpr unsigned kFullMask = 0xffffffffu;

template <class T>
__device__ __forceinline__ T warp_sum(T v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(kFullMask, v, o);
  return v;
}

template <class T>
__device__ __forceinline__ T warp_max(T v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    const T w = __shfl_xor_sync(kFullMask, v, o);
    v = w > v ? w : v;  // keeps NaN where v is NaN; a NaN from w is dropped (see row kernels)
  }
  return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the
// result. `scratch` holds 32 values; the call ends with the scratch free for reuse.
template <class T>
__device__ __forceinline__ T block_sum(T v, T* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  v = warp_sum(v);
  __syncthreads();  // scratch may still be read by a previous reduction
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : T(0);
  return warp_sum(v);
}

}  // namespace cuda
}  // namespace pyfastnn

// Kernel launches go through this macro so that the sources can also be built by the CPU
// emulator used in tests (which has no <<< >>> syntax).
#ifndef PFN_LAUNCH
#define PFN_LAUNCH(kernel, grid, block, smem, stream, ...) kernel<<<(grid), (block), (smem), (stream)>>>(__VA_ARGS__)
#endif
