// Grow-only, 64-byte aligned scratch buffers owned by the calling thread. Kernels pack
// panels into them; reusing them avoids a page-faulting allocation on every call.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>

namespace pyfastnn {

enum class WorkspaceSlot { gemm_a = 0, gemm_b = 1, scratch = 2, count = 3 };

// Returns at least `bytes` bytes, valid until the same thread asks for the same slot again.
void* thread_workspace(WorkspaceSlot slot, std::size_t bytes);

template <class T>
T* thread_workspace_as(WorkspaceSlot slot, std::size_t count) {
  return static_cast<T*>(thread_workspace(slot, count * sizeof(T)));
}

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

// A 64-byte aligned array of `count` values (at least one) for a call's own buffers, freed
// with the returned owner; sized per call, unlike the thread workspaces above.
template <class T>
std::unique_ptr<T, FreeDeleter> alloc_array(int64_t count) {
  const std::size_t bytes = (static_cast<std::size_t>(count > 0 ? count : 1) * sizeof(T) + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, bytes);
  if (!p) throw std::bad_alloc();
  return std::unique_ptr<T, FreeDeleter>(static_cast<T*>(p));
}

}  // namespace pyfastnn
