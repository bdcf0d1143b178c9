// Run-time choice among per-ISA kernel tables.
//
// An area "foo" with SIMD kernels writes them once in a header (inside namespace
// PYFASTNN_ISA_NS, like csrc/gemm/blocked.h) and compiles it in three units:
// foo_portable.cpp, foo_avx2.cpp and foo_avx512.cpp (CMake gives the last two their flags by
// name), each defining `const FooTable foo_kernels_<isa>`. The baseline code then calls
// PYFASTNN_ISA_SELECT(foo_kernels).fn(...), which follows pyfastnn::active_isa() (so
// PYFASTNN_ISA / set_isa force every area, not only GEMM).
// Define each table `constexpr` (make_table() constexpr too): a table built by a load-time
// initializer would run AVX-512 code when the module loads, on CPUs that lack it.
#pragma once
#include "pyfastnn/gemm.h"

namespace pyfastnn {

template <class Table>
const Table& isa_select(const Table& portable, const Table* avx2, const Table* avx512) {
  switch (active_isa()) {
    case Isa::avx512:
      return avx512 ? *avx512 : portable;
    case Isa::avx2:
      return avx2 ? *avx2 : portable;
    default:
      return portable;  // portable and avx512_emulated (a GEMM-only test mode)
  }
}

}  // namespace pyfastnn

#ifdef PYFASTNN_X86
#define PYFASTNN_ISA_SELECT(name) ::pyfastnn::isa_select(name##_portable, &name##_avx2, &name##_avx512)
#else
#define PYFASTNN_ISA_SELECT(name) (name##_portable)
#endif
