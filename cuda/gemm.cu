// GEMM dispatch: which kernel, which tile size, which operands may use vector loads.
#include "gemm_common.cuh"

namespace pyfastnn {
namespace cuda {
namespace {

bool vec_ok(const float* p, int64_t ld, int64_t stride, int64_t batch) {
  return aligned16(p) && ld % 4 == 0 && (batch <= 1 || stride % 4 == 0);
}

int64_t tiles(int64_t extent, int tile) { return (extent + tile - 1) / tile; }

}  // namespace

bool gemm_variant(const GemmParams& p, int variant, std::uintptr_t stream) {
  if (p.m <= 0 || p.n <= 0 || p.batch <= 0) return true;
  constexpr int64_t kIntMax = 2147483647 - 256;  // room for the last tile's indices
  if (p.m > kIntMax || p.n > kIntMax || p.k > kIntMax) {
    record_error(cudaErrorInvalidValue);
    return false;
  }
  GemmKernelArgs a;
  a.m = static_cast<int>(p.m);
  a.n = static_cast<int>(p.n);
  a.k = static_cast<int>(p.k < 0 ? 0 : p.k);
  a.alpha = p.alpha;
  a.beta = p.beta;
  a.a = p.a;
  a.lda = p.lda;
  a.stride_a = p.stride_a;
  a.b = p.b;
  a.ldb = p.ldb;
  a.stride_b = p.stride_b;
  a.c = p.c;
  a.ldc = p.ldc;
  a.stride_c = p.stride_c;
  a.batch = p.batch;
  a.bias = p.bias;
  a.act = p.act;
  a.act_alpha = p.act_alpha;
  a.act_beta = p.act_beta;
  a.vec_a = vec_ok(p.a, p.lda, p.stride_a, p.batch);
  a.vec_b = vec_ok(p.b, p.ldb, p.stride_b, p.batch);
  a.vec_c = vec_ok(p.c, p.ldc, p.stride_c, p.batch);

  const cudaStream_t s = as_stream(stream);
  const int64_t big_blocks = tiles(p.m, 128) * tiles(p.n, 128) * (p.batch < 65535 ? p.batch : 65535);
  const bool fills_gpu = big_blocks >= sm_count();
  bool tensor_cores = p.precision != GemmPrecision::fp32;
  if (variant == kAuto && tensor_cores && !fills_gpu && p.k < 256) tensor_cores = false;  // not worth a TC tile
  if (variant == kSimt128 || variant == kSimt64) tensor_cores = false;
  if (variant == kTensorCore) tensor_cores = true;

  if (tensor_cores) {
    if (compute_capability() < 80) {
      record_error(cudaErrorNotSupported);
      return false;
    }
    const GemmPrecision prec = p.precision == GemmPrecision::fp32 ? GemmPrecision::tf32 : p.precision;
    if (tiles(p.m, 128) * tiles(p.n, 128) >= (int64_t(1) << 31)) {
      record_error(cudaErrorInvalidValue);
      return false;
    }
    a.tiles_m = static_cast<int>(tiles(p.m, 128));
    a.tiles_n = static_cast<int>(tiles(p.n, 128));
    return launch_tensor_core(a, p.trans_a, p.trans_b, prec, s);
  }
  const bool big = variant == kSimt128 || (variant == kAuto && fills_gpu);
  const int tile = big ? 128 : 64;
  if (tiles(p.m, tile) * tiles(p.n, tile) >= (int64_t(1) << 31)) {
    record_error(cudaErrorInvalidValue);
    return false;
  }
  a.tiles_m = static_cast<int>(tiles(p.m, tile));
  a.tiles_n = static_cast<int>(tiles(p.n, tile));
  return launch_simt(a, p.trans_a, p.trans_b, big, s);
}

bool gemm(const GemmParams& p, std::uintptr_t stream) { return gemm_variant(p, kAuto, stream); }

}  // namespace cuda
}  // namespace pyfastnn
