// Tile and cache blocking of the AVX-512 kernels, shared with the emulated variant that
// runs them on generic vectors (gemm_portable.cpp) so machines without AVX-512 test it.
#pragma once
#include "gemm/blocked.h"

namespace pyfastnn {
namespace PYFASTNN_ISA_NS {

template <class V>  // V: 16 floats
using Avx512SgemmConfig = KernelConfig<V, 12, 2, 1536, 256, 512>;
template <class V>  // V: 8 doubles
using Avx512DgemmConfig = KernelConfig<V, 12, 2, 768, 192, 256>;

}  // namespace PYFASTNN_ISA_NS
}  // namespace pyfastnn
