// The smallest kernel: proves the CUDA toolchain path end to end (build, launch, bind).
#include "common.cuh"

namespace pyfastnn {
namespace cuda {

__global__ void fill_kernel(float* __restrict__ data, int64_t n, float value) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    data[i] = value;
}

bool fill(float* data, int64_t n, float value, std::uintptr_t stream) {
  if (n <= 0) return true;
  const int threads = 256;
  PFN_LAUNCH(fill_kernel, grid_for(n, threads), threads, 0, as_stream(stream), data, n, value);
  return launched();
}

}  // namespace cuda
}  // namespace pyfastnn
