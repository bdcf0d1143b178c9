// Portable float32 softmax kernels on 4-lane vectors (SSE2 on any x86-64, NEON on aarch64).
#define PYFASTNN_ISA_NS portable
#define PYFASTNN_SOFTMAX_W 4
#include "softmax/softmax_impl.h"

PYFASTNN_SOFTMAX_TABLE(portable)
