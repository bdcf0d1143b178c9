// CUDA kernels and device queries. Plain C++ interface: raw device pointers and a stream
// handle, so the bindings never include CUDA headers.
#pragma once
#include <cstdint>
#include <string>

namespace pyfastnn {
namespace cuda {

int device_count();              // 0 when there is no driver or no GPU
std::string device_name(int device);
int runtime_version();           // e.g. 13000
std::string last_error();        // message of the last failed call, "" if none
int device_compute_capability(); // of the current device: major * 10 + minor (80, 90, ...), 0 if unknown
bool synchronize();              // cudaDeviceSynchronize; false (see last_error) on an error

// data[i] = value for i < n, on `stream` (a cudaStream_t as an integer, 0 = default).
// Returns false (see last_error) when the launch fails.
bool fill(float* data, int64_t n, float value, std::uintptr_t stream);

}  // namespace cuda
}  // namespace pyfastnn
