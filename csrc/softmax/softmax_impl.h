// Softmax, log-softmax and softmax-cross-entropy row kernels, written once and compiled per
// instruction set (softmax_portable.cpp, softmax_avx2.cpp, softmax_avx512.cpp: float32; and
// softmax_emulated16.cpp: the AVX-512 lane count on generic vectors, for testing) and once
// more in softmax.cpp (namespace `accurate`: float64 on libm's exp/log).
//
// Each row is processed while it sits in L1: a max pass, then a pass that exponentiates
// and sums (fused with whatever else the op needs), then at most one writing pass. The
// loops run on explicit W-lane vectors (GCC vector extensions: W = 4 portable, 8 AVX2,
// 16 AVX-512 floats), the last partial vector of a row included, so short rows (C = 10)
// never fall back to scalar code. exp is a Cephes-style polynomial specialised for
// arguments <= 0 (x minus its row max); logs are vmath's (the cross-entropy takes all rows'
// logs in one vector loop at the end). Rows are dealt to OpenMP threads statically.
#pragma once
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "pyfastnn/softmax.h"

namespace pyfastnn {

// The float32 kernels each ISA unit provides (double runs `accurate` in softmax.cpp).
struct SoftmaxKernelTable {
  void (*softmax_forward)(const float* x, float* y, int64_t rows, int64_t cols, int threads);
  void (*softmax_backward)(const float* y, const float* gy, float* gx, int64_t rows, int64_t cols, int threads);
  void (*log_softmax_forward)(const float* x, float* y, int64_t rows, int64_t cols, int threads);
  void (*log_softmax_backward)(const float* y, const float* gy, float* gx, int64_t rows, int64_t cols,
                               int threads);
  void (*xent_forward)(const XentArgs<float>& args, float* row_loss, float* stats, int threads);
  void (*xent_backward)(const XentArgs<float>& args, const float* stats, float scale, const float* row_scale,
                        float* dlogits, int threads);
};

extern const SoftmaxKernelTable softmax_kernels_portable;
extern const SoftmaxKernelTable softmax_kernels_avx512_emulated;  // 16 generic lanes (testing)
#ifdef PYFASTNN_X86
extern const SoftmaxKernelTable softmax_kernels_avx2;
extern const SoftmaxKernelTable softmax_kernels_avx512;
#endif

}  // namespace pyfastnn

#ifdef PYFASTNN_ISA_NS
#include <cmath>
#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "pyfastnn/vmath.h"

#ifndef PYFASTNN_SOFTMAX_W
#error "define PYFASTNN_SOFTMAX_W (float lanes of this unit's vectors) before including softmax_impl.h"
#endif

namespace pyfastnn {
namespace PYFASTNN_ISA_NS {
namespace sm {

// W lanes of T as a GCC vector, with the partial-vector loads/stores of a row's tail.
template <class T, int W>
struct Lanes {
  using S = T;
  static constexpr int kW = W;
  typedef T V __attribute__((vector_size(sizeof(T) * W)));
  typedef T VU __attribute__((vector_size(sizeof(T) * W), aligned(sizeof(T))));
  typedef int32_t VI32 __attribute__((vector_size(4 * W)));
  typedef std::conditional_t<sizeof(T) == 4, int32_t, int64_t> I;
  typedef I VI __attribute__((vector_size(sizeof(T) * W)));  // comparison masks

  static V splat(T x) { return V{} + x; }
  static V load(const T* p) { return *reinterpret_cast<const VU*>(p); }
  static void store(T* p, V v) { *reinterpret_cast<VU*>(p) = v; }
  static VI iota() {
    VI v{};
    for (int i = 0; i < W; ++i) v[i] = i;
    return v;
  }
  static VI first(int64_t n) { return iota() < static_cast<I>(n); }  // lanes [0, n)
  // The first n < W elements (masked: nothing past p + n is touched), the rest `fill`.
  static V load_tail(const T* p, int64_t n, T fill) {
#if defined(__AVX512F__)
    if constexpr (sizeof(V) == 64) {
      const __mmask16 k16 = static_cast<__mmask16>((1u << n) - 1);
      if constexpr (sizeof(T) == 4)
        return (V)_mm512_mask_loadu_ps((__m512)splat(fill), k16, p);
      else
        return (V)_mm512_mask_loadu_pd((__m512d)splat(fill), static_cast<__mmask8>(k16), p);
    }
#endif
#if defined(__AVX2__)
    if constexpr (sizeof(V) == 32) {
      if constexpr (sizeof(T) == 4)
        return first(n) ? (V)_mm256_maskload_ps(p, (__m256i)first(n)) : splat(fill);
      else
        return first(n) ? (V)_mm256_maskload_pd(p, (__m256i)first(n)) : splat(fill);
    }
#endif
    V v = splat(fill);
    for (int64_t i = 0; i < n; ++i) v[i] = p[i];
    return v;
  }
  static void store_tail(T* p, V v, int64_t n) {
#if defined(__AVX512F__)
    if constexpr (sizeof(V) == 64) {
      const __mmask16 k16 = static_cast<__mmask16>((1u << n) - 1);
      if constexpr (sizeof(T) == 4)
        _mm512_mask_storeu_ps(p, k16, (__m512)v);
      else
        _mm512_mask_storeu_pd(p, static_cast<__mmask8>(k16), (__m512d)v);
      return;
    }
#endif
#if defined(__AVX2__)
    if constexpr (sizeof(V) == 32) {
      if constexpr (sizeof(T) == 4)
        _mm256_maskstore_ps(p, (__m256i)first(n), (__m256)v);
      else
        _mm256_maskstore_pd(p, (__m256i)first(n), (__m256d)v);
      return;
    }
#endif
    for (int64_t i = 0; i < n; ++i) p[i] = v[i];
  }
  // Horizontal sum / max as a tree of in-register rotations (log2 W dependent steps).
  template <int H, std::size_t... J>
  static V rotate(V v, std::index_sequence<J...>) {
    return __builtin_shufflevector(v, v, static_cast<int>((J + H) % W)...);
  }
  static T hsum(V v) {
    constexpr auto seq = std::make_index_sequence<W>{};
    if constexpr (W >= 16) v += rotate<8>(v, seq);
    if constexpr (W >= 8) v += rotate<4>(v, seq);
    if constexpr (W >= 4) v += rotate<2>(v, seq);
    if constexpr (W >= 2) v += rotate<1>(v, seq);
    return v[0];
  }
  static T hmax(V v) {
    constexpr auto seq = std::make_index_sequence<W>{};
    V r;
    if constexpr (W >= 16) r = rotate<8>(v, seq), v = r > v ? r : v;
    if constexpr (W >= 8) r = rotate<4>(v, seq), v = r > v ? r : v;
    if constexpr (W >= 4) r = rotate<2>(v, seq), v = r > v ? r : v;
    if constexpr (W >= 2) r = rotate<1>(v, seq), v = r > v ? r : v;
    return v[0];
  }
};

// Load / store of a full vector (kTail false) or of the first n lanes (the rest `fill`).
template <class L, bool kTail>
inline typename L::V ld(const typename L::S* p, int64_t n, typename L::S fill) {
  if constexpr (kTail)
    return L::load_tail(p, n, fill);
  else
    return L::load(p);
}

template <class L, bool kTail>
inline void st(typename L::S* p, typename L::V v, int64_t n) {
  if constexpr (kTail)
    L::store_tail(p, v, n);
  else
    L::store(p, v);
}

// v where lane < n (a tail's real lanes), else 0: keeps padding out of reductions.
template <class L, bool kTail>
inline typename L::V live(typename L::V v, int64_t n) {
  if constexpr (kTail)
    return L::first(n) ? v : L::splat(0);
  else
    return v;
}

// f(kTail, j, n): full vectors at j, then one partial vector of the n remaining lanes.
template <class L, class F>
inline void for_chunks(int64_t cols, const F& f) {
  int64_t j = 0;
  for (; j + L::kW <= cols; j += L::kW) f(std::false_type{}, j, int64_t(L::kW));
  if (j < cols) f(std::true_type{}, j, cols - j);
}

// e^d for d <= 0 (x minus its row max) or NaN (propagated). float: Cephes' polynomial on
// r = d - n ln2 (two-part ln2), scaled by 2^n through the exponent bits; results below
// 2^-126 (d < -87.34) are flushed to 0, so saturated rows give exact 0s. double: libm.
template <class L>
inline typename L::V exp_nonpos(typename L::V d) {
  using V = typename L::V;
  if constexpr (std::is_same_v<typename L::S, float>) {
    const V lo = L::splat(-87.3365447505531f);
    const V dc = d < lo ? lo : d;  // NaN stays NaN
    const V n = (dc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  // round(d / ln 2)
    V r = dc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    const V z = r * r;
    V y = L::splat(1.9875691500E-4f);
    y = y * r + 1.3981999507E-3f;
    y = y * r + 8.3334519073E-3f;
    y = y * r + 4.1665795894E-2f;
    y = y * r + 1.6666665459E-1f;
    y = y * r + 5.0000001201E-1f;
    y = y * z + r + 1.0f;
    const typename L::VI32 e = (__builtin_convertvector(n, typename L::VI32) + 127) << 23;
    const V out = y * (V)e;  // the bits of 2^n
    return d < lo ? L::splat(0.0f) : out;
  } else {
    V out;
    for (int i = 0; i < L::kW; ++i) out[i] = std::exp(d[i]);
    return out;
  }
}

template <class L>
inline typename L::S row_max(const typename L::S* x, int64_t cols) {
  using V = typename L::V;
  V m = L::splat(-__builtin_inf());
  for_chunks<L>(cols, [&](auto tail, int64_t j, int64_t n) {
    const V v = ld<L, decltype(tail)::value>(x + j, n, -__builtin_inf());
    m = v > m ? v : m;  // NaN is skipped here and propagates through exp instead
  });
  return L::hmax(m);
}

// sum_j exp(x_j - m)
template <class L>
inline typename L::S row_sumexp(const typename L::S* x, int64_t cols, typename L::S m) {
  using V = typename L::V;
  const V vm = L::splat(m);
  V s = L::splat(0);
  for_chunks<L>(cols, [&](auto tail, int64_t j, int64_t n) {
    constexpr bool kT = decltype(tail)::value;
    s += live<L, kT>(exp_nonpos<L>(ld<L, kT>(x + j, n, m) - vm), n);
  });
  return L::hsum(s);
}

// At least this many elements per thread before a second thread is worth waking.
constexpr int64_t kMinPerThread = 16384;

inline int useful_threads(int64_t rows, int64_t cols, int requested) {
  if (requested <= 1 || rows <= 1) return 1;
  const int64_t work = rows * (cols > 0 ? cols : 1);
  int64_t t = work / kMinPerThread;
  if (t > requested) t = requested;
  if (t > rows) t = rows;
  return t < 1 ? 1 : static_cast<int>(t);
}

template <class F>
inline void for_rows(int64_t rows, int threads, const F& f) {
  if (threads <= 1) {
    for (int64_t i = 0; i < rows; ++i) f(i);
    return;
  }
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t i = 0; i < rows; ++i) f(i);
}

}  // namespace sm

// Lanes of this unit: PYFASTNN_SOFTMAX_W floats per vector, as many bytes of doubles.
template <class T>
using LanesOf = sm::Lanes<T, (PYFASTNN_SOFTMAX_W * 4) / int(sizeof(T))>;

template <class T>
void softmax_forward(const T* x, T* y, int64_t rows, int64_t cols, int threads) {
  using L = LanesOf<T>;
  using V = typename L::V;
  if (cols == 0) return;
  const int64_t full = cols - cols % L::kW, rest = cols - full;
  sm::for_rows(rows, sm::useful_threads(rows, cols, threads), [&](int64_t i) {
    const T* xr = x + i * cols;
    T* yr = y + i * cols;
    const T m = sm::row_max<L>(xr, cols);
    const V vm = L::splat(m);
    V s = L::splat(0);
    for (int64_t j = 0; j < full; j += L::kW) {
      const V e = sm::exp_nonpos<L>(L::load(xr + j) - vm);
      L::store(yr + j, e);
      s += e;
    }
    V tail = L::splat(0);  // the partial last vector stays in a register for the scaling
    if (rest) {
      tail = sm::live<L, true>(sm::exp_nonpos<L>(L::load_tail(xr + full, rest, m) - vm), rest);
      s += tail;
    }
    const V inv = L::splat(T(1) / L::hsum(s));
    for (int64_t j = 0; j < full; j += L::kW) L::store(yr + j, L::load(yr + j) * inv);
    if (rest) L::store_tail(yr + full, tail * inv, rest);
  });
}

template <class T>
void softmax_backward(const T* y, const T* gy, T* gx, int64_t rows, int64_t cols, int threads) {
  using L = LanesOf<T>;
  using V = typename L::V;
  if (cols == 0) return;
  sm::for_rows(rows, sm::useful_threads(rows, cols, threads), [&](int64_t i) {
    const T* yr = y + i * cols;
    const T* gr = gy + i * cols;
    T* out = gx + i * cols;
    V dot = L::splat(0);
    sm::for_chunks<L>(cols, [&](auto tail, int64_t j, int64_t n) {
      constexpr bool kT = decltype(tail)::value;
      dot += sm::ld<L, kT>(gr + j, n, T(0)) * sm::ld<L, kT>(yr + j, n, T(0));
    });
    const V vd = L::splat(L::hsum(dot));
    sm::for_chunks<L>(cols, [&](auto tail, int64_t j, int64_t n) {
      constexpr bool kT = decltype(tail)::value;
      sm::st<L, kT>(out + j, sm::ld<L, kT>(yr + j, n, T(0)) * (sm::ld<L, kT>(gr + j, n, T(0)) - vd), n);
    });
  });
}

// Rows go in blocks: max and sum of every row of the block, then the block's logs in one
// vector loop (a scalar log per row is a long dependency chain when rows are short), then
// the writing pass.
template <class T>
void log_softmax_forward(const T* x, T* y, int64_t rows, int64_t cols, int threads) {
  using L = LanesOf<T>;
  using V = typename L::V;
  if (cols == 0) return;
  constexpr int64_t kBlock = 64;
  const int64_t blocks = (rows + kBlock - 1) / kBlock;
  const int nt = sm::useful_threads(rows, cols, threads);
  sm::for_rows(blocks, nt < blocks ? nt : static_cast<int>(blocks), [&](int64_t b) {
    const int64_t i0 = b * kBlock, count = rows - i0 < kBlock ? rows - i0 : kBlock;
    T m[kBlock], ls[kBlock];
    for (int64_t k = 0; k < count; ++k) {
      const T* xr = x + (i0 + k) * cols;
      m[k] = sm::row_max<L>(xr, cols);
      ls[k] = sm::row_sumexp<L>(xr, cols, m[k]);
    }
#pragma omp simd
    for (int64_t k = 0; k < count; ++k) ls[k] = vmath::log(ls[k]);
    for (int64_t k = 0; k < count; ++k) {
      const T* xr = x + (i0 + k) * cols;
      T* yr = y + (i0 + k) * cols;
      const T mk = m[k];
      const V vm = L::splat(mk), vls = L::splat(ls[k]);
      sm::for_chunks<L>(cols, [&](auto tail, int64_t j, int64_t n) {
        constexpr bool kT = decltype(tail)::value;
        sm::st<L, kT>(yr + j, (sm::ld<L, kT>(xr + j, n, mk) - vm) - vls, n);
      });
    }
  });
}

template <class T>
void log_softmax_backward(const T* y, const T* gy, T* gx, int64_t rows, int64_t cols, int threads) {
  using L = LanesOf<T>;
  using V = typename L::V;
  if (cols == 0) return;
  sm::for_rows(rows, sm::useful_threads(rows, cols, threads), [&](int64_t i) {
    const T* yr = y + i * cols;
    const T* gr = gy + i * cols;
    T* out = gx + i * cols;
    V sum = L::splat(0);
    sm::for_chunks<L>(cols, [&](auto tail, int64_t j, int64_t n) {
      sum += sm::ld<L, decltype(tail)::value>(gr + j, n, T(0));
    });
    const V vs = L::splat(L::hsum(sum));
    sm::for_chunks<L>(cols, [&](auto tail, int64_t j, int64_t n) {
      constexpr bool kT = decltype(tail)::value;
      const V e = sm::exp_nonpos<L>(sm::ld<L, kT>(yr + j, n, T(0)));
      sm::st<L, kT>(out + j, sm::ld<L, kT>(gr + j, n, T(0)) - e * vs, n);
    });
  });
}

// ---- softmax cross-entropy ----

// Forward, phase 1 (per row): stats = {m, s = sum exp(x - m), S = total target weight} and
// row_loss = the part of the loss without the log-sum-exp remainder, so that
//   loss_i = row_loss_i + S_i * log(s_i)
// for every variant (index or probabilities, weights, smoothing). Phase 2 (xent_finish)
// takes the logs of all rows at once in vector code instead of one latency-bound scalar
// log per row, which matters when rows are short (C = 10).
template <class T, bool kWeight, bool kSmooth>
void xent_forward_index(const XentArgs<T>& a, T* row_loss, T* stats, int threads) {
  using L = LanesOf<T>;
  using V = typename L::V;
  const int64_t c = a.c, rows = a.n;
  const T keep = T(1) - a.smoothing, eps_c = a.smoothing / T(c);
  T* const st_m = stats;
  T* const st_s = stats + rows;
  T* const st_w = stats + 2 * rows;
  sm::for_rows(rows, sm::useful_threads(rows, c, threads), [&](int64_t i) {
    const int64_t y = a.target[i];
    if (y == a.ignore_index) {
      row_loss[i] = 0;
      st_m[i] = st_w[i] = 0;
      st_s[i] = 1;  // log(1) = 0
      return;
    }
    const T* x = a.logits + i * c;
    const T m = sm::row_max<L>(x, c);
    T s, dev = 0;  // dev = sum_c w_c (m - x_c), for the smoothing term
    if constexpr (kSmooth) {
      const V vm = L::splat(m);
      V vs = L::splat(0), vdev = L::splat(0);
      sm::for_chunks<L>(c, [&](auto tail, int64_t j, int64_t n) {
        constexpr bool kT = decltype(tail)::value;
        const V d = sm::ld<L, kT>(x + j, n, m) - vm;  // padding lanes: d = 0
        vs += sm::live<L, kT>(sm::exp_nonpos<L>(d), n);
        if constexpr (kWeight)
          vdev -= sm::ld<L, kT>(a.weight + j, n, T(0)) * d;
        else
          vdev -= d;
      });
      s = L::hsum(vs);
      dev = L::hsum(vdev);
    } else {
      s = sm::row_sumexp<L>(x, c, m);
    }
    const T wy = kWeight ? a.weight[y] : T(1);
    T partial = wy * (m - x[y]);
    T total = wy;
    if constexpr (kSmooth) {
      partial = keep * partial + eps_c * dev;
      total = keep * wy + eps_c * a.weight_sum;
    }
    row_loss[i] = partial;
    st_m[i] = m;
    st_s[i] = s;
    st_w[i] = total;
  });
}

template <class T, bool kWeight>
void xent_forward_probs(const XentArgs<T>& a, T* row_loss, T* stats, int threads) {
  using L = LanesOf<T>;
  using V = typename L::V;
  const int64_t c = a.c, rows = a.n;
  const T keep = T(1) - a.smoothing, eps_c = a.smoothing / T(c);
  sm::for_rows(rows, sm::useful_threads(rows, c, threads), [&](int64_t i) {
    const T* x = a.logits + i * c;
    const T* t = a.probs + i * c;
    const T m = sm::row_max<L>(x, c);
    const V vm = L::splat(m);
    V vs = L::splat(0), vdev = L::splat(0), vtot = L::splat(0);
    sm::for_chunks<L>(c, [&](auto tail, int64_t j, int64_t n) {
      constexpr bool kT = decltype(tail)::value;
      const V d = sm::ld<L, kT>(x + j, n, m) - vm;  // padding lanes: d = 0 and tw = 0
      vs += sm::live<L, kT>(sm::exp_nonpos<L>(d), n);
      V tw = sm::live<L, kT>(sm::ld<L, kT>(t + j, n, T(0)) * keep + eps_c, n);
      if constexpr (kWeight) tw *= sm::ld<L, kT>(a.weight + j, n, T(0));
      vdev -= tw * d;
      vtot += tw;
    });
    row_loss[i] = L::hsum(vdev);
    stats[i] = m;
    stats[rows + i] = L::hsum(vs);
    stats[2 * rows + i] = L::hsum(vtot);
  });
}

// Phase 2: s -> log(s) in place, loss_i += S_i log(s_i); vector code over the rows.
template <class T>
void xent_finish(int64_t rows, T* row_loss, T* stats) {
  T* const st_s = stats + rows;
  const T* const st_w = stats + 2 * rows;
#pragma omp simd
  for (int64_t i = 0; i < rows; ++i) {
    const T ls = vmath::log(st_s[i]);
    st_s[i] = ls;
    row_loss[i] += st_w[i] * ls;
  }
}

template <class T>
void softmax_xent_forward(const XentArgs<T>& a, T* row_loss, T* stats, int threads) {
  if (a.c == 0) return;
  const bool w = a.weight != nullptr;
  if (a.probs) {
    w ? xent_forward_probs<T, true>(a, row_loss, stats, threads)
      : xent_forward_probs<T, false>(a, row_loss, stats, threads);
  } else {
    const bool smooth = a.smoothing != T(0);
    if (w)
      smooth ? xent_forward_index<T, true, true>(a, row_loss, stats, threads)
             : xent_forward_index<T, true, false>(a, row_loss, stats, threads);
    else
      smooth ? xent_forward_index<T, false, true>(a, row_loss, stats, threads)
             : xent_forward_index<T, false, false>(a, row_loss, stats, threads);
  }
  xent_finish(a.n, row_loss, stats);
}

template <class T, bool kWeight>
void xent_backward_index(const XentArgs<T>& a, const T* stats, T scale, const T* row_scale, T* dlogits,
                         int threads) {
  using L = LanesOf<T>;
  using V = typename L::V;
  const int64_t c = a.c;
  const T keep = T(1) - a.smoothing, eps_c = a.smoothing / T(c);
  sm::for_rows(a.n, sm::useful_threads(a.n, c, threads), [&](int64_t i) {
    T* g = dlogits + i * c;
    const int64_t y = a.target[i];
    if (y == a.ignore_index) {
      for (int64_t j = 0; j < c; ++j) g[j] = 0;
      return;
    }
    const T sc = row_scale ? scale * row_scale[i] : scale;
    const T* x = a.logits + i * c;
    const T m = stats[i], ls = stats[a.n + i];
    const V vm = L::splat(m), vls = L::splat(ls);
    const V p_scale = L::splat(sc * stats[2 * a.n + i]);  // scale_i * S_i
    const V u = L::splat(sc * eps_c);        // the uniform (smoothing) part of the target
    const V hit = L::splat(sc * keep * (kWeight ? a.weight[y] : T(1)));  // the target class's part
    const typename L::VI lane = L::iota();
    sm::for_chunks<L>(c, [&](auto tail, int64_t j, int64_t n) {
      constexpr bool kT = decltype(tail)::value;
      const V p = sm::exp_nonpos<L>((sm::ld<L, kT>(x + j, n, m) - vm) - vls);
      V out = p_scale * p;
      if constexpr (kWeight)
        out -= u * sm::ld<L, kT>(a.weight + j, n, T(0));
      else
        out -= u;
      // the target class, in registers (a scalar g[y] -= ... right after a masked store
      // would stall on store forwarding)
      if (y - j >= 0 && y - j < L::kW) out = lane == static_cast<typename L::I>(y - j) ? out - hit : out;
      sm::st<L, kT>(g + j, out, n);
    });
  });
}

template <class T, bool kWeight>
void xent_backward_probs(const XentArgs<T>& a, const T* stats, T scale, const T* row_scale, T* dlogits,
                         int threads) {
  using L = LanesOf<T>;
  using V = typename L::V;
  const int64_t c = a.c;
  const T keep = T(1) - a.smoothing, eps_c = a.smoothing / T(c);
  sm::for_rows(a.n, sm::useful_threads(a.n, c, threads), [&](int64_t i) {
    T* g = dlogits + i * c;
    const T* x = a.logits + i * c;
    const T* t = a.probs + i * c;
    const T sc = row_scale ? scale * row_scale[i] : scale;
    const T m = stats[i], ls = stats[a.n + i];
    const V vm = L::splat(m), vls = L::splat(ls);
    const V p_scale = L::splat(sc * stats[2 * a.n + i]), vsc = L::splat(sc);
    sm::for_chunks<L>(c, [&](auto tail, int64_t j, int64_t n) {
      constexpr bool kT = decltype(tail)::value;
      const V p = sm::exp_nonpos<L>((sm::ld<L, kT>(x + j, n, m) - vm) - vls);
      V tw = sm::ld<L, kT>(t + j, n, T(0)) * keep + eps_c;
      if constexpr (kWeight) tw *= sm::ld<L, kT>(a.weight + j, n, T(0));
      sm::st<L, kT>(g + j, p_scale * p - vsc * tw, n);
    });
  });
}

template <class T>
void softmax_xent_backward(const XentArgs<T>& a, const T* stats, T scale, const T* row_scale, T* dlogits,
                           int threads) {
  if (a.c == 0) return;
  const bool w = a.weight != nullptr;
  if (a.probs)
    w ? xent_backward_probs<T, true>(a, stats, scale, row_scale, dlogits, threads)
      : xent_backward_probs<T, false>(a, stats, scale, row_scale, dlogits, threads);
  else
    w ? xent_backward_index<T, true>(a, stats, scale, row_scale, dlogits, threads)
      : xent_backward_index<T, false>(a, stats, scale, row_scale, dlogits, threads);
}

}  // namespace PYFASTNN_ISA_NS
}  // namespace pyfastnn

// The float32 kernel table of this translation unit: PYFASTNN_SOFTMAX_TABLE(avx2) defines
// pyfastnn::softmax_kernels_avx2.
#define PYFASTNN_SOFTMAX_TABLE(isa)                                                                      \
  namespace pyfastnn {                                                                                 \
  const SoftmaxKernelTable softmax_kernels_##isa = {                                                  \
      &PYFASTNN_ISA_NS::softmax_forward<float>,      &PYFASTNN_ISA_NS::softmax_backward<float>,      \
      &PYFASTNN_ISA_NS::log_softmax_forward<float>,  &PYFASTNN_ISA_NS::log_softmax_backward<float>,  \
      &PYFASTNN_ISA_NS::softmax_xent_forward<float>, &PYFASTNN_ISA_NS::softmax_xent_backward<float>}; \
  }

#endif  // PYFASTNN_ISA_NS
