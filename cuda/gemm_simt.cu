// FP32 SGEMM on the CUDA cores: BM x BN tiles of C per block, BK-deep slices of A and B
// staged in shared memory (double-buffered: the next slice is loaded from global memory into
// registers while the current one is multiplied), each thread accumulating TM x TN outputs
// in registers from 4-wide shared-memory vectors. Slices are stored k-major in shared memory
// (As[k][m], Bs[k][n]) whatever the operands' layouts, so the inner loop is the same for
// every transpose combination; global loads are 16-byte vectors where alignment allows and
// bounds-checked scalars otherwise (edge tiles read zeros).
#include "gemm_common.cuh"

namespace pyfastnn {
namespace cuda {
namespace {

template <int BM, int BN, int BK, int TM, int TN>
struct SimtTile {
  static constexpr int threads = (BM / TM) * (BN / TN);
  static constexpr int pad = 4;  // keeps rows 16-byte aligned, spreads transposed stores over banks
  // one 16-byte global load per thread for each of the A and B slices
  static_assert(BM * BK / 4 == threads && BN * BK / 4 == threads, "tile shape must give one float4 per thread");
  static_assert(TM % 4 == 0 && TN % 4 == 0, "thread tiles are made of 4-wide vectors");
};

// This thread's 4 elements of every BK slice of an operand (OC: stored outer-contiguous):
//   depth-contiguous (A, or B transposed): outer row o0 + tid / (BK/4), depths 4 (tid % (BK/4)) ..
//   outer-contiguous (A transposed, or B): depth row tid / (BO/4), outer entries o0 + 4 (tid % (BO/4)) ..
template <int BO, int BK, bool OC>
__device__ __forceinline__ void init_loader(SliceLoader<OC>& l, const float* base, int64_t ld, int outer, int o0,
                                            int tid) {
  if (!OC) l.init(base, ld, outer, o0 + tid / (BK / 4), (tid % (BK / 4)) * 4);
  else l.init(base, ld, outer, o0 + (tid % (BO / 4)) * 4, tid / (BO / 4));
}

template <int BM, int BK, bool TRANS>
__device__ __forceinline__ void store_slice(float (*S)[BM + 4], float4 v, int tid) {
  if (!TRANS) {  // transpose into k-major
    const int row = tid / (BK / 4), kq = (tid % (BK / 4)) * 4;
    S[kq + 0][row] = v.x;
    S[kq + 1][row] = v.y;
    S[kq + 2][row] = v.z;
    S[kq + 3][row] = v.w;
  } else {
    const int krow = tid / (BM / 4), oq = (tid % (BM / 4)) * 4;
    *reinterpret_cast<float4*>(&S[krow][oq]) = v;
  }
}

// Blocks per multiprocessor the register allocation aims for (1: ~185 registers, no spills;
// 2: capped at 128 registers with some spilling). Which is faster is for a GPU to tell.
#ifndef PYFASTNN_SGEMM_MIN_BLOCKS
#define PYFASTNN_SGEMM_MIN_BLOCKS 1
#endif

template <int BM, int BN, int BK, int TM, int TN, bool TA, bool TB>
__global__ void __launch_bounds__(SimtTile<BM, BN, BK, TM, TN>::threads, PYFASTNN_SGEMM_MIN_BLOCKS)
    sgemm_kernel(GemmKernelArgs p) {
  using Tile = SimtTile<BM, BN, BK, TM, TN>;
  constexpr int PAD = Tile::pad;
  constexpr int TX = BN / TN;  // threads along n
  // B is the "outer = n" operand: transposed B (n x k) loads like untransposed A and vice versa
  __shared__ __align__(16) float As[2][BK][BM + PAD];
  __shared__ __align__(16) float Bs[2][BK][BN + PAD];
  static_assert(BM + PAD == BN + PAD, "store_slice is shared by A and B");

  const int tid = threadIdx.x;
  const int ty = tid / TX, tx = tid % TX;
  int tm, tn;
  tile_of(blockIdx.x, p.tiles_m, p.tiles_n, tm, tn);
  const int m0 = tm * BM, n0 = tn * BN;
  const int ktiles = (p.k + BK - 1) / BK;

  for (int64_t z = blockIdx.y; z < p.batch; z += gridDim.y) {
    const float* A = p.a + z * p.stride_a;
    const float* B = p.b + z * p.stride_b;
    float* C = p.c + z * p.stride_c;

    float acc[TM][TN];
#pragma unroll
    for (int i = 0; i < TM; ++i)
#pragma unroll
      for (int j = 0; j < TN; ++j) acc[i][j] = 0.f;

    if (ktiles > 0) {
      SliceLoader<TA> la;
      SliceLoader<!TB> lb;
      init_loader<BM, BK, TA>(la, A, p.lda, p.m, m0, tid);
      init_loader<BN, BK, !TB>(lb, B, p.ldb, p.n, n0, tid);
      float4 ra = la.load(0, BK, p.lda, p.k, p.vec_a);
      float4 rb = lb.load(0, BK, p.ldb, p.k, p.vec_b);
      store_slice<BM, BK, TA>(As[0], ra, tid);
      store_slice<BN, BK, !TB>(Bs[0], rb, tid);
      __syncthreads();
      int cur = 0;
      for (int kt = 0; kt < ktiles; ++kt) {
        const bool more = kt + 1 < ktiles;
        if (more) {  // in flight while this slice is multiplied
          const int k0 = (kt + 1) * BK;
          ra = la.load(k0, BK, p.lda, p.k, p.vec_a);
          rb = lb.load(k0, BK, p.ldb, p.k, p.vec_b);
        }
#pragma unroll
        for (int kk = 0; kk < BK; ++kk) {
          float a[TM], b[TN];
#pragma unroll
          for (int h = 0; h < TM / 4; ++h) {
            const float4 v = *reinterpret_cast<const float4*>(&As[cur][kk][h * (4 * BM / TM) + ty * 4]);
            a[h * 4 + 0] = v.x;
            a[h * 4 + 1] = v.y;
            a[h * 4 + 2] = v.z;
            a[h * 4 + 3] = v.w;
          }
#pragma unroll
          for (int h = 0; h < TN / 4; ++h) {
            const float4 v = *reinterpret_cast<const float4*>(&Bs[cur][kk][h * (4 * BN / TN) + tx * 4]);
            b[h * 4 + 0] = v.x;
            b[h * 4 + 1] = v.y;
            b[h * 4 + 2] = v.z;
            b[h * 4 + 3] = v.w;
          }
#pragma unroll
          for (int i = 0; i < TM; ++i)
#pragma unroll
            for (int j = 0; j < TN; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        if (more) {  // the other buffer was last read before the previous __syncthreads
          store_slice<BM, BK, TA>(As[cur ^ 1], ra, tid);
          store_slice<BN, BK, !TB>(Bs[cur ^ 1], rb, tid);
        }
        __syncthreads();
        cur ^= 1;
      }
    }

    // thread rows h * (4 BM / TM) + ty * 4 + i, columns h' * (4 BN / TN) + tx * 4 + j
#pragma unroll
    for (int hi = 0; hi < TM / 4; ++hi)
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int r = m0 + hi * (4 * BM / TM) + ty * 4 + i;
#pragma unroll
        for (int hj = 0; hj < TN / 4; ++hj) {
          const int c = n0 + hj * (4 * BN / TN) + tx * 4;
          const float* v = &acc[hi * 4 + i][hj * 4];
          store4(p, C, r, c, make_float4(v[0], v[1], v[2], v[3]));
        }
      }
    // (no barrier needed before the next batch item: its first shared-memory writes follow
    // the __syncthreads that closed this item's last slice)
  }
}

template <int BM, int BN, int BK, int TM, int TN>
bool launch_config(const GemmKernelArgs& a, bool ta, bool tb, cudaStream_t s) {
  using Tile = SimtTile<BM, BN, BK, TM, TN>;
  const unsigned grid_x = static_cast<unsigned>(a.tiles_m) * static_cast<unsigned>(a.tiles_n);
  const unsigned grid_y = static_cast<unsigned>(a.batch < 65535 ? a.batch : 65535);
  const dim3 grid(grid_x, grid_y), block(Tile::threads);
  void (*kernel)(GemmKernelArgs) = ta ? (tb ? sgemm_kernel<BM, BN, BK, TM, TN, true, true>
                                            : sgemm_kernel<BM, BN, BK, TM, TN, true, false>)
                                      : (tb ? sgemm_kernel<BM, BN, BK, TM, TN, false, true>
                                            : sgemm_kernel<BM, BN, BK, TM, TN, false, false>);
  PFN_LAUNCH(kernel, grid, block, 0, s, a);
  return launched();
}

}  // namespace

// big: 128 x 128 tiles (8 x 8 per thread, 256 threads); else 64 x 64 (4 x 4 per thread),
// for products too small to give every multiprocessor a 128 x 128 tile.
bool launch_simt(const GemmKernelArgs& a, bool trans_a, bool trans_b, bool big, cudaStream_t s) {
  return big ? launch_config<128, 128, 8, 8, 8>(a, trans_a, trans_b, s)
             : launch_config<64, 64, 16, 4, 4>(a, trans_a, trans_b, s);
}

}  // namespace cuda
}  // namespace pyfastnn
