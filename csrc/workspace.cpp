#include "pyfastnn/workspace.h"

#include <cstdlib>
#include <new>

namespace pyfastnn {
namespace {

struct Buffer {
  void* data = nullptr;
  std::size_t size = 0;
  ~Buffer() { std::free(data); }
};

thread_local Buffer buffers[static_cast<int>(WorkspaceSlot::count)];

}  // namespace

void* thread_workspace(WorkspaceSlot slot, std::size_t bytes) {
  Buffer& buf = buffers[static_cast<int>(slot)];
  if (bytes > buf.size) {
    std::free(buf.data);
    std::size_t size = (bytes + bytes / 4 + 4095) & ~std::size_t(4095);  // room to grow
    buf.data = std::aligned_alloc(4096, size);
    if (!buf.data) {
      buf.size = 0;
      throw std::bad_alloc();
    }
    buf.size = size;
  }
  return buf.data;
}

}  // namespace pyfastnn
