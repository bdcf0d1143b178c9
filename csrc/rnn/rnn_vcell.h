// The float recurrent cells in explicit AVX2 / AVX-512 vectors (included by rnn_impl.h
// inside its ISA namespace; the portable build and float64 keep the scalar cells there).
//
// Why not the activation kernels' functions: a cell runs 3 sigmoids and 2 tanh per LSTM unit
// (once per unit per time step, between two small GEMMs), so their cost decides how far the
// time loop falls behind the GEMM. Here a sigmoid is 1 / (1 + e^-x) with a clamped Cephes
// exponential (no range and NaN selects), and tanh is a rational minimax fit (odd degree-13
// numerator, even degree-6 denominator, the form of Eigen's float tanh) with no exponential
// at all: together half the time of the accurate activation functions. Accuracy, against
// float64: sigmoid within 4 ulp (0 and 1 exact at saturation, results below 1e-38 are
// denormal), tanh within 4e-7 relative everywhere (also near 0) and exactly +-1 from |x| = 9
// on; NaN in gives NaN out. Partial vectors at the end of a
// unit range use masked loads and stores, so every unit gets the same arithmetic.
#pragma once
#include <immintrin.h>

#include <cstdint>

#ifndef PYFASTNN_ISA_NS
#error "include rnn_vcell.h from an AVX2 or AVX-512 translation unit (through rnn_impl.h)"
#endif

namespace pyfastnn {
namespace PYFASTNN_ISA_NS {
namespace rnn_vcell {

#if defined(__AVX512F__)
struct Lanes {
  using R = __m512;
  static constexpr int W = 16;
  static __mmask16 mask(int64_t n) { return static_cast<__mmask16>((1u << n) - 1u); }
  static R load(const float* p, int64_t n) { return n >= W ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(mask(n), p); }
  static void store(float* p, R v, int64_t n) {
    if (n >= W)
      _mm512_storeu_ps(p, v);
    else
      _mm512_mask_storeu_ps(p, mask(n), v);
  }
  static R set1(float x) { return _mm512_set1_ps(x); }
  static R add(R a, R b) { return _mm512_add_ps(a, b); }
  static R sub(R a, R b) { return _mm512_sub_ps(a, b); }
  static R mul(R a, R b) { return _mm512_mul_ps(a, b); }
  static R fma(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }    // a b + c
  static R fnma(R a, R b, R c) { return _mm512_fnmadd_ps(a, b, c); }  // c - a b
  static R max(R a, R b) { return _mm512_max_ps(a, b); }  // b when either is NaN
  static R min(R a, R b) { return _mm512_min_ps(a, b); }
  static R round(R x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static R pow2(R n) {  // 2^n for integral n in [-126, 127]
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23));
  }
  static R recip(R d) { return _mm512_div_ps(set1(1.0f), d); }
  static R abs(R x) { return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(0x7fffffff))); }
  static R sign_of(R x) { return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(int(0x80000000u)))); }
  static R or_(R a, R b) { return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(a), _mm512_castps_si512(b))); }
  static R select_ge(R a, R b, R x, R y) {  // a >= b ? x : y (false for NaN)
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_GE_OQ), y, x);
  }
};
#else
struct Lanes {
  using R = __m256;
  static constexpr int W = 8;
  static __m256i mask(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static R load(const float* p, int64_t n) { return n >= W ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mask(n)); }
  static void store(float* p, R v, int64_t n) {
    if (n >= W)
      _mm256_storeu_ps(p, v);
    else
      _mm256_maskstore_ps(p, mask(n), v);
  }
  static R set1(float x) { return _mm256_set1_ps(x); }
  static R add(R a, R b) { return _mm256_add_ps(a, b); }
  static R sub(R a, R b) { return _mm256_sub_ps(a, b); }
  static R mul(R a, R b) { return _mm256_mul_ps(a, b); }
  static R fma(R a, R b, R c) { return _mm256_fmadd_ps(a, b, c); }
  static R fnma(R a, R b, R c) { return _mm256_fnmadd_ps(a, b, c); }
  static R max(R a, R b) { return _mm256_max_ps(a, b); }
  static R min(R a, R b) { return _mm256_min_ps(a, b); }
  static R round(R x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static R pow2(R n) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23));
  }
  // a true division: as fast here as a refined estimate, and exact where it matters (1 / 1)
  static R recip(R d) { return _mm256_div_ps(set1(1.0f), d); }
  static R abs(R x) { return _mm256_and_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff))); }
  static R sign_of(R x) { return _mm256_and_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32(int(0x80000000u)))); }
  static R or_(R a, R b) { return _mm256_or_ps(a, b); }
  static R select_ge(R a, R b, R x, R y) { return _mm256_blendv_ps(y, x, _mm256_cmp_ps(a, b, _CMP_GE_OQ)); }
};
#endif

using L = Lanes;
using R = L::R;

// e^t for t in [-87, 88] (callers clamp; NaN stays NaN): Cephes' expf polynomial after
// t = n ln2 + r, |r| <= ln2 / 2.
inline R exp_clamped(R t) {
  const R n = L::round(L::mul(t, L::set1(1.44269504088896341f)));
  R r = L::fnma(n, L::set1(0.693359375f), t);
  r = L::fnma(n, L::set1(-2.12194440e-4f), r);
  R y = L::set1(1.9875691500E-4f);
  y = L::fma(y, r, L::set1(1.3981999507E-3f));
  y = L::fma(y, r, L::set1(8.3334519073E-3f));
  y = L::fma(y, r, L::set1(4.1665795894E-2f));
  y = L::fma(y, r, L::set1(1.6666665459E-1f));
  y = L::fma(y, r, L::set1(5.0000001201E-1f));
  y = L::fma(y, L::mul(r, r), L::add(r, L::set1(1.0f)));
  return L::mul(y, L::pow2(n));
}

inline R sigmoid(R x) {
  // max(lo, v) and min(hi, v) return v when it is NaN
  const R t = L::min(L::set1(88.0f), L::max(L::set1(-87.0f), L::sub(L::set1(0.0f), x)));
  return L::recip(L::add(L::set1(1.0f), exp_clamped(t)));
}

inline R tanh(R x) {
  const R xc = L::min(L::set1(7.90531110763549805f), L::max(L::set1(-7.90531110763549805f), x));
  const R x2 = L::mul(xc, xc);
  R p = L::set1(-2.76076847742355e-16f);
  p = L::fma(p, x2, L::set1(2.00018790482477e-13f));
  p = L::fma(p, x2, L::set1(-8.60467152213735e-11f));
  p = L::fma(p, x2, L::set1(5.12229709037114e-08f));
  p = L::fma(p, x2, L::set1(1.48572235717979e-05f));
  p = L::fma(p, x2, L::set1(6.37261928875436e-04f));
  p = L::fma(p, x2, L::set1(4.89352455891786e-03f));
  p = L::mul(p, xc);
  R q = L::set1(1.19825839466702e-06f);
  q = L::fma(q, x2, L::set1(1.18534705686654e-04f));
  q = L::fma(q, x2, L::set1(2.26843463243900e-03f));
  q = L::fma(q, x2, L::set1(4.89352518554385e-03f));
  const R t = L::mul(p, L::recip(q));
  // from |x| = 9 on tanh(x) rounds to +-1 (the fit stops at 7.9, a few ulp short of it)
  return L::select_ge(L::abs(x), L::set1(9.0f), L::or_(L::set1(1.0f), L::sign_of(x)), t);
}

// ---- the cells over units [u0, u1) of one row (gate arrays indexed g * H + unit), as the
// scalar versions in rnn_impl.h; in-place use (act == gx, c_out == c) is allowed.

inline void lstm_fwd(int64_t u0, int64_t u1, int64_t H, const float* gx, const float* gh, const float* c,
                     float* c_out, float* h, float* act, float* cprev_out) {
  for (int64_t j = u0; j < u1; j += L::W) {
    const int64_t n = u1 - j;
    const R i = sigmoid(L::add(L::load(gx + j, n), L::load(gh + j, n)));
    const R f = sigmoid(L::add(L::load(gx + H + j, n), L::load(gh + H + j, n)));
    const R g = tanh(L::add(L::load(gx + 2 * H + j, n), L::load(gh + 2 * H + j, n)));
    const R o = sigmoid(L::add(L::load(gx + 3 * H + j, n), L::load(gh + 3 * H + j, n)));
    const R cp = L::load(c + j, n);
    const R cn = L::fma(f, cp, L::mul(i, g));
    if (cprev_out) L::store(cprev_out + j, cp, n);
    L::store(c_out + j, cn, n);
    L::store(h + j, L::mul(o, tanh(cn)), n);
    if (act) {
      L::store(act + j, i, n);
      L::store(act + H + j, f, n);
      L::store(act + 2 * H + j, g, n);
      L::store(act + 3 * H + j, o, n);
    }
  }
}

inline void lstm_bwd(int64_t u0, int64_t u1, int64_t H, const float* act, const float* c, const float* dh,
                     const float* dc, float* dc_out, float* dg1, float* dg2) {
  const R one = L::set1(1.0f);
  for (int64_t j = u0; j < u1; j += L::W) {
    const int64_t n = u1 - j;
    const R i = L::load(act + j, n), f = L::load(act + H + j, n), g = L::load(act + 2 * H + j, n),
            o = L::load(act + 3 * H + j, n);
    const R cp = L::load(c + j, n);
    const R tc = tanh(L::fma(f, cp, L::mul(i, g)));
    const R d = L::load(dh + j, n);
    R dct = L::mul(L::mul(d, o), L::fnma(tc, tc, one));
    if (dc) dct = L::add(dct, L::load(dc + j, n));
    const R di = L::mul(L::mul(dct, g), L::mul(i, L::sub(one, i)));
    const R df = L::mul(L::mul(dct, cp), L::mul(f, L::sub(one, f)));
    const R dgg = L::mul(L::mul(dct, i), L::fnma(g, g, one));
    const R dob = L::mul(L::mul(d, tc), L::mul(o, L::sub(one, o)));
    L::store(dc_out + j, L::mul(dct, f), n);
    float* outs[2] = {dg1, dg2};
    for (float* dg : outs) {
      if (!dg) continue;
      L::store(dg + j, di, n);
      L::store(dg + H + j, df, n);
      L::store(dg + 2 * H + j, dgg, n);
      L::store(dg + 3 * H + j, dob, n);
    }
  }
}

inline void gru_fwd(int64_t u0, int64_t u1, int64_t H, const float* gx, const float* gh, const float* b_hn,
                    const float* hp, float* h, float* act, float* ghn_out) {
  for (int64_t j = u0; j < u1; j += L::W) {
    const int64_t n = u1 - j;
    const R r = sigmoid(L::add(L::load(gx + j, n), L::load(gh + j, n)));
    const R z = sigmoid(L::add(L::load(gx + H + j, n), L::load(gh + H + j, n)));
    R hn = L::load(gh + 2 * H + j, n);
    if (b_hn) hn = L::add(hn, L::load(b_hn + j, n));
    const R nn = tanh(L::fma(r, hn, L::load(gx + 2 * H + j, n)));
    L::store(h + j, L::fma(z, L::sub(L::load(hp + j, n), nn), nn), n);
    if (act) {
      L::store(act + j, r, n);
      L::store(act + H + j, z, n);
      L::store(act + 2 * H + j, nn, n);
    }
    if (ghn_out) L::store(ghn_out + j, hn, n);
  }
}

inline void rnn_tanh_fwd(int64_t u0, int64_t u1, const float* gx, const float* gh, float* h, float* act) {
  for (int64_t j = u0; j < u1; j += L::W) {
    const int64_t n = u1 - j;
    const R o = tanh(L::add(L::load(gx + j, n), L::load(gh + j, n)));
    L::store(h + j, o, n);
    if (act) L::store(act + j, o, n);
  }
}

}  // namespace rnn_vcell
}  // namespace PYFASTNN_ISA_NS
}  // namespace pyfastnn
