// AVX2 + FMA float32 softmax kernels (8-lane vectors).
#define PYFASTNN_ISA_NS avx2
#define PYFASTNN_SOFTMAX_W 8
#include "softmax/softmax_impl.h"

PYFASTNN_SOFTMAX_TABLE(avx2)
