// What the GEMM kernels share: their arguments, the tile order, bounds-checked vector loads
// and the epilogue (alpha, beta, bias, activation).
#pragma once
#include "act_math.cuh"
#include "common.cuh"
#include "pyfastnn_cuda/gemm.h"

namespace pyfastnn {
namespace cuda {

// The launch's view of GemmParams: plus which operands allow 16-byte vector access (base
// aligned, leading dimension and batch stride multiples of 4) and the tile grid.
struct GemmKernelArgs {
  int m, n, k;  // < 2^31 (checked by the dispatcher); leading dimensions and strides are 64-bit
  float alpha, beta;
  const float* a;
  int64_t lda, stride_a;
  const float* b;
  int64_t ldb, stride_b;
  float* c;
  int64_t ldc, stride_c;
  int64_t batch;
  const float* bias;
  ActKind act;
  float act_alpha, act_beta;
  bool vec_a, vec_b, vec_c;
  int tiles_m, tiles_n;
};

// Tile (tm, tn) of block `t`: consecutive blocks walk down a group of 8 tile rows before
// moving right, so blocks running together share the same A rows and B columns in L2.
__device__ __forceinline__ void tile_of(int t, int tiles_m, int tiles_n, int& tm, int& tn) {
  constexpr int kGroup = 8;
  const int per_group = kGroup * tiles_n;
  const int first_m = (t / per_group) * kGroup;
  const int rows = min(tiles_m - first_m, kGroup);
  const int in_group = t % per_group;
  tm = first_m + in_group % rows;
  tn = in_group / rows;
}

// One thread's share of the k-slices of an operand: the 4 consecutive elements it loads
// from every slice, found once and then advanced slice by slice (keeps the per-slice work
// and the registers held across the main loop small).
//
// The operand is "outer x depth" (op(A) is m x k, op(B)^T is n x k). Stored depth-contiguous
// (A not transposed, B transposed) the thread reads 4 depths of one outer row; stored
// outer-contiguous (A transposed, B not) it reads 4 outer entries of one depth row.
template <bool OUTER_CONTIGUOUS>
struct SliceLoader {
  const float* ptr;  // the thread's first element in the next slice
  int doff;          // depth offset within a slice
  int valid;         // depth-contiguous: outer row in range (0/1); else bit e: outer entry e in range

  __device__ __forceinline__ void init(const float* __restrict__ base, int64_t ld, int outer, int o, int d) {
    doff = d;
    if (!OUTER_CONTIGUOUS) {  // row o, columns d .. d+3
      valid = o < outer;
      ptr = base + (valid ? int64_t(o) * ld : 0) + d;
    } else {  // row d, columns o .. o+3
      valid = 0;
      for (int e = 0; e < 4; ++e) valid |= (o + e < outer) << e;
      ptr = base + int64_t(d) * ld + (valid ? o : 0);
    }
  }

  // The 4 elements of the slice starting at depth k0 (zeros outside the matrix), then moves
  // to the next slice (bk deeper). `vec`: 16-byte loads allowed.
  __device__ __forceinline__ float4 load(int k0, int bk, int64_t ld, int depth, bool vec) {
    float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
    const int d = k0 + doff;
    const float* q = ptr;
    ptr += OUTER_CONTIGUOUS ? bk * ld : bk;
    if (!OUTER_CONTIGUOUS) {
      if (!valid) return v;
      if (vec && d + 3 < depth) return __ldg(reinterpret_cast<const float4*>(q));
      if (d < depth) v.x = __ldg(q);
      if (d + 1 < depth) v.y = __ldg(q + 1);
      if (d + 2 < depth) v.z = __ldg(q + 2);
      if (d + 3 < depth) v.w = __ldg(q + 3);
      return v;
    }
    if (d >= depth || !valid) return v;
    if (vec && valid == 15) return __ldg(reinterpret_cast<const float4*>(q));
    if (valid & 1) v.x = __ldg(q);
    if (valid & 2) v.y = __ldg(q + 1);
    if (valid & 4) v.z = __ldg(q + 2);
    if (valid & 8) v.w = __ldg(q + 3);
    return v;
  }
};

// The activation out of line: inlined into every output of the unrolled epilogues it would
// multiply the kernels' code (and compile time) many times over, for a call per output.
static __device__ __noinline__ float gemm_activation(ActKind kind, float v, float a, float b) {
  return act::forward(kind, v, a, b);
}

// Final value of C[r][c] from the accumulated product (c_in: C[r][c], read only if beta != 0).
__device__ __forceinline__ float epilogue_value(const GemmKernelArgs& p, float acc, float c_in, int col) {
  float v = p.alpha * acc;
  if (p.beta != 0.f) v += p.beta * c_in;
  if (p.bias) v += __ldg(p.bias + col);
  if (p.act == ActKind::relu) v = v < 0.f ? 0.f : v;  // NaN stays NaN
  else if (p.act != ActKind::none) v = gemm_activation(p.act, v, p.act_alpha, p.act_beta);
  return v;
}

// Store 4 accumulated values to C[r][c .. c+3] (bounds-checked, vector store when allowed).
__device__ __forceinline__ void store4(const GemmKernelArgs& p, float* __restrict__ C, int r, int c, float4 acc) {
  if (r >= p.m || c >= p.n) return;
  float* q = C + int64_t(r) * p.ldc + c;
  if (p.vec_c && c + 3 < p.n) {
    float4 cin = make_float4(0.f, 0.f, 0.f, 0.f);
    if (p.beta != 0.f) cin = *reinterpret_cast<const float4*>(q);
    float4 out;
    out.x = epilogue_value(p, acc.x, cin.x, c);
    out.y = epilogue_value(p, acc.y, cin.y, c + 1);
    out.z = epilogue_value(p, acc.z, cin.z, c + 2);
    out.w = epilogue_value(p, acc.w, cin.w, c + 3);
    *reinterpret_cast<float4*>(q) = out;
    return;
  }
  const float a[4] = {acc.x, acc.y, acc.z, acc.w};
#pragma unroll
  for (int j = 0; j < 4; ++j)
    if (c + j < p.n) q[j] = epilogue_value(p, a[j], p.beta != 0.f ? q[j] : 0.f, c + j);
}

// Kernel variants the dispatcher can launch (GemmParams-independent tags for tests).
enum GemmVariant : int { kAuto = 0, kSimt128 = 1, kSimt64 = 2, kTensorCore = 3 };

bool launch_simt(const GemmKernelArgs& a, bool trans_a, bool trans_b, bool big, cudaStream_t s);
bool launch_tensor_core(const GemmKernelArgs& a, bool trans_a, bool trans_b, GemmPrecision prec, cudaStream_t s);

}  // namespace cuda
}  // namespace pyfastnn
