#include <cuda_runtime.h>

#include "pyfastnn_cuda/runtime.h"

namespace pyfastnn {
namespace cuda {

static thread_local std::string g_last_error;

void record_error(cudaError_t err) { g_last_error = cudaGetErrorString(err); }

std::string last_error() { return g_last_error; }

int device_count() {
  int n = 0;
  cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    record_error(err);
    cudaGetLastError();  // clear the sticky "no driver" state
    return 0;
  }
  return n;
}

std::string device_name(int device) {
  cudaDeviceProp prop;
  cudaError_t err = cudaGetDeviceProperties(&prop, device);
  if (err != cudaSuccess) {
    record_error(err);
    return "";
  }
  return prop.name;
}

int runtime_version() {
  int v = 0;
  cudaRuntimeGetVersion(&v);
  return v;
}

}  // namespace cuda
}  // namespace pyfastnn
