// SGEMM on the tensor cores (WMMA, compute capability 8.0+): float32 operands are rounded
// to TF32 or BF16 as they are staged in shared memory, products accumulate in FP32.
//
// 128 x 128 tiles of C per block of 8 warps (2 x 4, each warp 64 x 32 = 4 x 2 WMMA 16 x 16
// accumulators); BK = 16 slices of op(A) stored m-major (As[m][k]) and of op(B) k-major
// (Bs[k][n]) whatever the operands' layouts, double-buffered through registers as in the
// FP32 kernel. The epilogue goes through a per-warp 16 x 16 staging tile (the accumulator
// layout is opaque) so that alpha, beta, bias, the activation and the bounds checks are the
// same code as the FP32 kernel's.
#include <cuda_bf16.h>
#include <mma.h>

#include "gemm_common.cuh"

namespace pyfastnn {
namespace cuda {
namespace {

namespace wmma = nvcuda::wmma;

constexpr int kBM = 128, kBN = 128, kBK = 16, kThreads = 256;
constexpr int kWarpM = 64, kWarpN = 32;  // warp tile
constexpr int kFM = kWarpM / 16, kFN = kWarpN / 16;

template <GemmPrecision P>
struct TcTraits;

template <>
struct TcTraits<GemmPrecision::tf32> {
  using Elem = float;
  using FragPrec = wmma::precision::tf32;
  static constexpr int kStep = 8;  // k of one WMMA
  static constexpr int kPad = 4;   // 16 bytes: rows stay 32-byte aligned at multiples of 8 rows
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  static __device__ __forceinline__ Elem convert(float x) { return wmma::__float_to_tf32(x); }
#else
  static __device__ __forceinline__ Elem convert(float x) { return x; }
#endif
};

template <>
struct TcTraits<GemmPrecision::bf16> {
  using Elem = __nv_bfloat16;
  using FragPrec = __nv_bfloat16;
  static constexpr int kStep = 16;
  static constexpr int kPad = 8;  // 16 bytes
  static __device__ __forceinline__ Elem convert(float x) { return __float2bfloat16_rn(x); }
};

// One BK slice of op(A) (stored m-major in shared memory) and of op(B) (k-major): 512
// float4 each, 2 per thread; vector i = tid + 256 l of the slice is
//   A not transposed (m x k): row i / 4, k = 4 (i % 4)    -> As[row][k .. k+3]
//   A transposed     (k x m): k = i / 32, m = 4 (i % 32)  -> As[m .. m+3][k]
//   B not transposed (k x n): k = i / 32, n = 4 (i % 32)  -> Bs[k][n .. n+3]
//   B transposed     (n x k): n = i / 4, k = 4 (i % 4)    -> Bs[k .. k+3][n]
template <bool OC>
__device__ __forceinline__ void init_loader(SliceLoader<OC>& l, const float* base, int64_t ld, int outer, int o0,
                                            int i) {
  if (!OC) l.init(base, ld, outer, o0 + i / 4, (i % 4) * 4);
  else l.init(base, ld, outer, o0 + (i % 32) * 4, i / 32);
}

template <GemmPrecision P, bool TA, bool TB>
__device__ __forceinline__ void store_slices(typename TcTraits<P>::Elem (*As)[kBK + TcTraits<P>::kPad],
                                             typename TcTraits<P>::Elem (*Bs)[kBN + TcTraits<P>::kPad],
                                             const float4 (&ra)[2], const float4 (&rb)[2], int tid) {
  using Tr = TcTraits<P>;
#pragma unroll
  for (int l = 0; l < 2; ++l) {
    const int i = tid + l * kThreads;
    const float a[4] = {ra[l].x, ra[l].y, ra[l].z, ra[l].w};
    const float b[4] = {rb[l].x, rb[l].y, rb[l].z, rb[l].w};
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      if (!TA) As[i / 4][(i % 4) * 4 + e] = Tr::convert(a[e]);
      else As[(i % 32) * 4 + e][i / 32] = Tr::convert(a[e]);
      if (!TB) Bs[i / 32][(i % 32) * 4 + e] = Tr::convert(b[e]);
      else Bs[(i % 4) * 4 + e][i / 4] = Tr::convert(b[e]);
    }
  }
}

template <GemmPrecision P, bool TA, bool TB>
__global__ void __launch_bounds__(kThreads) tc_gemm_kernel(GemmKernelArgs p) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  using Tr = TcTraits<P>;
  using Elem = typename Tr::Elem;
  constexpr int LDA = kBK + Tr::kPad, LDB = kBN + Tr::kPad;
  __shared__ __align__(128) Elem As[2][kBM][LDA];
  __shared__ __align__(128) Elem Bs[2][kBK][LDB];
  __shared__ __align__(128) float Cs[kThreads / 32][16 * 16];

  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int wm = warp / (kBN / kWarpN), wn = warp % (kBN / kWarpN);  // 2 x 4 warps
  int tm, tn;
  tile_of(blockIdx.x, p.tiles_m, p.tiles_n, tm, tn);
  const int m0 = tm * kBM, n0 = tn * kBN;
  const int ktiles = (p.k + kBK - 1) / kBK;

  for (int64_t z = blockIdx.y; z < p.batch; z += gridDim.y) {
    const float* A = p.a + z * p.stride_a;
    const float* B = p.b + z * p.stride_b;
    float* C = p.c + z * p.stride_c;

    wmma::fragment<wmma::accumulator, 16, 16, Tr::kStep, float> acc[kFM][kFN];
#pragma unroll
    for (int i = 0; i < kFM; ++i)
#pragma unroll
      for (int j = 0; j < kFN; ++j) wmma::fill_fragment(acc[i][j], 0.f);

    if (ktiles > 0) {
      SliceLoader<TA> la[2];
      SliceLoader<!TB> lb[2];
      float4 ra[2], rb[2];
#pragma unroll
      for (int l = 0; l < 2; ++l) {
        init_loader<TA>(la[l], A, p.lda, p.m, m0, tid + l * kThreads);
        init_loader<!TB>(lb[l], B, p.ldb, p.n, n0, tid + l * kThreads);
        ra[l] = la[l].load(0, kBK, p.lda, p.k, p.vec_a);
        rb[l] = lb[l].load(0, kBK, p.ldb, p.k, p.vec_b);
      }
      store_slices<P, TA, TB>(As[0], Bs[0], ra, rb, tid);
      __syncthreads();
      int cur = 0;
      for (int kt = 0; kt < ktiles; ++kt) {
        const bool more = kt + 1 < ktiles;
        if (more) {
#pragma unroll
          for (int l = 0; l < 2; ++l) {
            ra[l] = la[l].load((kt + 1) * kBK, kBK, p.lda, p.k, p.vec_a);
            rb[l] = lb[l].load((kt + 1) * kBK, kBK, p.ldb, p.k, p.vec_b);
          }
        }
#pragma unroll
        for (int kk = 0; kk < kBK; kk += Tr::kStep) {
          wmma::fragment<wmma::matrix_a, 16, 16, Tr::kStep, typename Tr::FragPrec, wmma::row_major> fa[kFM];
          wmma::fragment<wmma::matrix_b, 16, 16, Tr::kStep, typename Tr::FragPrec, wmma::row_major> fb[kFN];
#pragma unroll
          for (int i = 0; i < kFM; ++i) wmma::load_matrix_sync(fa[i], &As[cur][wm * kWarpM + i * 16][kk], LDA);
#pragma unroll
          for (int j = 0; j < kFN; ++j) wmma::load_matrix_sync(fb[j], &Bs[cur][kk][wn * kWarpN + j * 16], LDB);
#pragma unroll
          for (int i = 0; i < kFM; ++i)
#pragma unroll
            for (int j = 0; j < kFN; ++j) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
        }
        if (more) store_slices<P, TA, TB>(As[cur ^ 1], Bs[cur ^ 1], ra, rb, tid);
        __syncthreads();
        cur ^= 1;
      }
    }

    // epilogue: each accumulator through the warp's staging tile; lane l handles rows
    // l / 4 and l / 4 + 8 of it, 4 columns each (16-byte pieces)
    float* stage = Cs[warp];
#pragma unroll
    for (int i = 0; i < kFM; ++i)
#pragma unroll
      for (int j = 0; j < kFN; ++j) {
        wmma::store_matrix_sync(stage, acc[i][j], 16, wmma::mem_row_major);
        __syncwarp();
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const int r = lane / 4 + h * 8, c = (lane % 4) * 4;
          const float4 v = *reinterpret_cast<const float4*>(stage + r * 16 + c);
          store4(p, C, m0 + wm * kWarpM + i * 16 + r, n0 + wn * kWarpN + j * 16 + c, v);
        }
        __syncwarp();
      }
  }
#endif
}

template <GemmPrecision P>
bool launch_precision(const GemmKernelArgs& a, bool ta, bool tb, cudaStream_t s) {
  const unsigned grid_x = static_cast<unsigned>(a.tiles_m) * static_cast<unsigned>(a.tiles_n);
  const unsigned grid_y = static_cast<unsigned>(a.batch < 65535 ? a.batch : 65535);
  void (*kernel)(GemmKernelArgs) = ta ? (tb ? tc_gemm_kernel<P, true, true> : tc_gemm_kernel<P, true, false>)
                                      : (tb ? tc_gemm_kernel<P, false, true> : tc_gemm_kernel<P, false, false>);
  PFN_LAUNCH(kernel, dim3(grid_x, grid_y), dim3(kThreads), 0, s, a);
  return launched();
}

}  // namespace

// Tiles are 128 x 128 (a.tiles_m / tiles_n must be computed for that).
bool launch_tensor_core(const GemmKernelArgs& a, bool trans_a, bool trans_b, GemmPrecision prec, cudaStream_t s) {
  return prec == GemmPrecision::bf16 ? launch_precision<GemmPrecision::bf16>(a, trans_a, trans_b, s)
                                     : launch_precision<GemmPrecision::tf32>(a, trans_a, trans_b, s);
}

}  // namespace cuda
}  // namespace pyfastnn
