// The smallest kernel: proves the CUDA toolchain path end to end (build, launch, bind).
#include <cuda_runtime.h>

#include "pyfastnn_cuda/runtime.h"

namespace pyfastnn {
namespace cuda {

void record_error(cudaError_t err);

__global__ void fill_kernel(float* __restrict__ data, int64_t n, float value) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    data[i] = value;
}

bool fill(float* data, int64_t n, float value, std::uintptr_t stream) {
  if (n <= 0) return true;
  const int threads = 256;
  const int64_t want = (n + threads - 1) / threads;
  const int blocks = static_cast<int>(want < 65535 ? want : 65535);
  fill_kernel<<<blocks, threads, 0, reinterpret_cast<cudaStream_t>(stream)>>>(data, n, value);
  cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) {
    record_error(err);
    return false;
  }
  return true;
}

}  // namespace cuda
}  // namespace pyfastnn
