#pragma once

namespace pyfastnn {

struct CpuFeatures {
  bool avx2_fma = false;  // AVX2 + FMA3, with OS support for the YMM state
  bool avx512 = false;    // AVX-512 F/VL/DQ/BW, with OS support for the ZMM state
};

const CpuFeatures& cpu_features();
int available_cores();  // CPUs this process may run on

}  // namespace pyfastnn
