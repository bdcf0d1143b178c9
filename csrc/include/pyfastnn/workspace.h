// Grow-only, 64-byte aligned scratch buffers owned by the calling thread. Kernels pack
// panels into them; reusing them avoids a page-faulting allocation on every call.
#pragma once
#include <cstddef>

namespace pyfastnn {

enum class WorkspaceSlot { gemm_a = 0, gemm_b = 1, scratch = 2, count = 3 };

// Returns at least `bytes` bytes, valid until the same thread asks for the same slot again.
void* thread_workspace(WorkspaceSlot slot, std::size_t bytes);

template <class T>
T* thread_workspace_as(WorkspaceSlot slot, std::size_t count) {
  return static_cast<T*>(thread_workspace(slot, count * sizeof(T)));
}

}  // namespace pyfastnn
