// The convolution kernel table of one ISA (conv_{portable,avx2,avx512}.cpp include this with
// PYFASTNN_ISA_NS and the GEMM's tile configurations).
#pragma once
#include "conv/implicit_impl.h"
#include "conv/winograd_impl.h"

namespace pyfastnn {
namespace PYFASTNN_ISA_NS {
namespace conv_k {

// The ISA's table; SCfg and DCfg are the GEMM's float and double tile configurations.
template <class SCfg, class DCfg>
constexpr ConvKernelTable make_table() {
  return {&im2col<float>,
          &im2col<double>,
          &col2im<float>,
          &col2im<double>,
          &act_grad<float>,
          &act_grad<double>,
          &dw_forward<float>,
          &dw_forward<double>,
          &dw_backward<float>,
          &dw_backward<double>,
          &implicit_forward<SCfg>,
          &implicit_forward<DCfg>,
          &implicit_dweight<SCfg>,
          &implicit_dweight<DCfg>,
          &winograd_weights<SCfg>,
          &winograd_weights<DCfg>,
          &winograd_forward<SCfg>,
          &winograd_forward<DCfg>,
          &winograd_dweight<SCfg>,
          &winograd_dweight<DCfg>};
}

}  // namespace conv_k
}  // namespace PYFASTNN_ISA_NS
}  // namespace pyfastnn
