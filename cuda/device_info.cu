#include <cuda_runtime.h>

#include <atomic>

#include "common.cuh"
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

namespace {
constexpr int kMaxDevices = 64;
std::atomic<int> g_sms[kMaxDevices];  // 0: not queried yet
std::atomic<int> g_cc[kMaxDevices];

int current_device() {
  int d = 0;
  if (cudaGetDevice(&d) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return d >= 0 && d < kMaxDevices ? d : 0;
}

int cached_attribute(std::atomic<int>* cache, int device, cudaDeviceAttr attr, int fallback) {
  int v = cache[device].load(std::memory_order_relaxed);
  if (v > 0) return v;
  if (cudaDeviceGetAttribute(&v, attr, device) != cudaSuccess || v <= 0) {
    cudaGetLastError();
    return fallback;
  }
  cache[device].store(v, std::memory_order_relaxed);
  return v;
}
}  // namespace

int sm_count() { return cached_attribute(g_sms, current_device(), cudaDevAttrMultiProcessorCount, 80); }

int compute_capability() {
  const int d = current_device();
  int cc = g_cc[d].load(std::memory_order_relaxed);
  if (cc > 0) return cc;
  int major = 0, minor = 0;
  if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, d) != cudaSuccess ||
      cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, d) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  cc = major * 10 + minor;
  g_cc[d].store(cc, std::memory_order_relaxed);
  return cc;
}

int device_compute_capability() { return compute_capability(); }

bool synchronize() {
  const cudaError_t err = cudaDeviceSynchronize();
  if (err == cudaSuccess) return true;
  record_error(err);
  return false;
}

}  // namespace cuda
}  // namespace pyfastnn
