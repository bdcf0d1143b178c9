// AVX-512 float32 softmax kernels (16-lane vectors).
#define PYFASTNN_ISA_NS avx512
#define PYFASTNN_SOFTMAX_W 16
#include "softmax/softmax_impl.h"

PYFASTNN_SOFTMAX_TABLE(avx512)
