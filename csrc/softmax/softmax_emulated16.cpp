// The AVX-512 kernels' 16-lane row logic on generic vectors (no AVX-512 instructions), for
// the avx512_emulated test mode: machines without AVX-512 exercise every 16-wide partial
// vector and reduction that the AVX-512 unit runs.
#define PYFASTNN_ISA_NS portable16
#define PYFASTNN_SOFTMAX_W 16
#include "softmax/softmax_impl.h"

PYFASTNN_SOFTMAX_TABLE(avx512_emulated)
