// Pooling row kernels that pay for SIMD: 2x2 stride-2 max and average pooling (forward,
// with and without argmax), the dense backward of windows two columns wide, and a row sum. Written once as
// scalar `omp simd` loops over a type T and compiled per instruction set
// (pool_{portable,avx2,avx512}.cpp); pool.cpp does the threading and picks the table.
#pragma once
#include <cstdint>
#include <type_traits>

namespace pyfastnn {

template <class T>
struct PoolRowKernels {
  // One output row of 2x2 stride-2 max pooling without padding: r0, r1 the window's two
  // input rows (2n elements of each read), y[j] the maximum of r0[2j], r0[2j+1], r1[2j],
  // r1[2j+1] in that order (first maximum wins; NaN propagates), idx[j] its flat position
  // base + 2j + {0, 1, W, W+1} (base: the position of r0[0]).
  void (*max2x2_i32)(const T* r0, const T* r1, T* y, int32_t* idx, int64_t n, int64_t base, int64_t W);
  void (*max2x2_i64)(const T* r0, const T* r1, T* y, int64_t* idx, int64_t n, int64_t base, int64_t W);
  void (*max2x2_noidx)(const T* r0, const T* r1, T* y, int64_t n);
  // One input row of the dense max-pooling backward for windows of width 2 (stride 2):
  // gx[2j + t] = idx[j] == pos0 + 2j + t ? gy[j] : 0 for t = 0, 1 and j < n (pos0: the flat
  // position of gx[0]). Returns how many of the 2n positions matched.
  int64_t (*dense2_i32)(const T* gy, const int32_t* idx, T* gx, int64_t n, int64_t pos0);
  int64_t (*dense2_i64)(const T* gy, const int64_t* idx, T* gx, int64_t n, int64_t pos0);
  // One output row of 2x2 stride-2 average pooling without padding: y[j] = (r0[2j] + r0[2j+1]
  // + r1[2j] + r1[2j+1]) * inv, summed in double.
  void (*avg2x2)(const T* r0, const T* r1, T* y, int64_t n, double inv);
  // One input row of the dense average-pooling backward for windows of width 2 (stride 2):
  // gx[2j] = gx[2j + 1] = gy[j] * inv.
  void (*avg_dense2)(const T* gy, T* gx, int64_t n, double inv);
  // sum(x[0 .. n)) in double.
  double (*sum)(const T* x, int64_t n);
};

struct PoolKernelTable {
  PoolRowKernels<float> f32;
  PoolRowKernels<double> f64;
};

extern const PoolKernelTable pool_kernels_portable;
#ifdef PYFASTNN_X86
extern const PoolKernelTable pool_kernels_avx2;
extern const PoolKernelTable pool_kernels_avx512;
#endif

}  // namespace pyfastnn

#ifdef PYFASTNN_ISA_NS
namespace pyfastnn {
namespace PYFASTNN_ISA_NS {
namespace pool_k {

// Rows run in blocks of B outputs whose inner loops have a constant trip count, so they
// vectorize fully with no scalar tail (which would dominate rows of 7 to 28 outputs); a
// ragged end is one more block overlapping the previous one (every kernel writes each
// output as a pure function of its inputs, so recomputing it is harmless). f(B, j0, fresh):
// the block [j0, j0 + B), of which [fresh, j0 + B) was not covered before.
template <int B>
using Block = std::integral_constant<int, B>;

template <class F>
inline void in_blocks(int64_t n, F&& f) {
  if (n >= 8) {
    int64_t j0 = 0;
    for (; j0 + 8 <= n; j0 += 8) f(Block<8>{}, j0, j0);
    if (j0 < n) f(Block<8>{}, n - 8, j0);
  } else if (n >= 4) {
    f(Block<4>{}, 0, 0);
    if (n > 4) f(Block<4>{}, n - 4, 4);
  } else {
    for (int64_t j = 0; j < n; ++j) f(Block<1>{}, j, j);
  }
}

// `v > m || isnan(v)` without a branch.
template <class T>
inline bool takes(T v, T m) {
  return (v > m) | (v != v);
}

template <class T, class I>
void max2x2(const T* r0, const T* r1, T* y, I* idx, int64_t n, int64_t base, int64_t W) {
  const I w = static_cast<I>(W), w1 = static_cast<I>(W + 1);
  in_blocks(n, [&](auto B, int64_t j0, int64_t) {
    const T *a0 = r0 + 2 * j0, *a1 = r1 + 2 * j0;
    T* yb = y + j0;
    I* ib = idx + j0;
    const I p0 = static_cast<I>(base + 2 * j0);  // index arithmetic in I: no 64-bit lanes for int32
#pragma omp simd
    for (int t = 0; t < decltype(B)::value; ++t) {
      const T a = a0[2 * t], b = a0[2 * t + 1], c = a1[2 * t], d = a1[2 * t + 1];
      T m = a;
      I k = 0;
      const bool tb = takes(b, m);
      m = tb ? b : m;
      k = tb ? I(1) : k;
      const bool tc = takes(c, m);
      m = tc ? c : m;
      k = tc ? w : k;
      const bool td = takes(d, m);
      m = td ? d : m;
      k = td ? w1 : k;
      yb[t] = m;
      ib[t] = p0 + static_cast<I>(2 * t) + k;
    }
  });
}

template <class T>
void max2x2_noidx(const T* r0, const T* r1, T* y, int64_t n) {
  in_blocks(n, [&](auto B, int64_t j0, int64_t) {
    const T *a0 = r0 + 2 * j0, *a1 = r1 + 2 * j0;
    T* yb = y + j0;
#pragma omp simd
    for (int t = 0; t < decltype(B)::value; ++t) {
      const T a = a0[2 * t], b = a0[2 * t + 1], c = a1[2 * t], d = a1[2 * t + 1];
      T m = a;
      m = takes(b, m) ? b : m;
      m = takes(c, m) ? c : m;
      m = takes(d, m) ? d : m;
      yb[t] = m;
    }
  });
}

template <class T, class I>
int64_t dense2(const T* gy, const I* idx, T* gx, int64_t n, int64_t pos0) {
  int64_t matched = 0;
  in_blocks(n, [&](auto B, int64_t j0, int64_t fresh) {
    const T* gb = gy + j0;
    const I* ib = idx + j0;
    T* xb = gx + 2 * j0;
    const I p0 = static_cast<I>(pos0 + 2 * j0);
    const int first = static_cast<int>(fresh - j0);  // count each output once
    int mb = 0;
#pragma omp simd reduction(+ : mb)
    for (int t = 0; t < decltype(B)::value; ++t) {
      const I p = p0 + static_cast<I>(2 * t);
      const I k = ib[t];
      const T g = gb[t];
      const bool m0 = k == p, m1 = k == p + 1;
      xb[2 * t] = m0 ? g : T(0);
      xb[2 * t + 1] = m1 ? g : T(0);
      mb += (t >= first) & (m0 | m1);
    }
    matched += mb;
  });
  return matched;
}

template <class T>
void avg2x2(const T* r0, const T* r1, T* y, int64_t n, double inv) {
  in_blocks(n, [&](auto B, int64_t j0, int64_t) {
    const T *a0 = r0 + 2 * j0, *a1 = r1 + 2 * j0;
    T* yb = y + j0;
#pragma omp simd
    for (int t = 0; t < decltype(B)::value; ++t) {
      const double s = (static_cast<double>(a0[2 * t]) + static_cast<double>(a0[2 * t + 1])) +
                       (static_cast<double>(a1[2 * t]) + static_cast<double>(a1[2 * t + 1]));
      yb[t] = static_cast<T>(s * inv);
    }
  });
}

template <class T>
void avg_dense2(const T* gy, T* gx, int64_t n, double inv) {
  in_blocks(n, [&](auto B, int64_t j0, int64_t) {
    const T* gb = gy + j0;
    T* xb = gx + 2 * j0;
#pragma omp simd
    for (int t = 0; t < decltype(B)::value; ++t) {
      const T v = static_cast<T>(static_cast<double>(gb[t]) * inv);
      xb[2 * t] = v;
      xb[2 * t + 1] = v;
    }
  });
}

template <class T>
double sum(const T* x, int64_t n) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += static_cast<double>(x[i]);
  return s;
}

template <class T>
constexpr PoolRowKernels<T> make_rows() {
  return {&max2x2<T, int32_t>, &max2x2<T, int64_t>, &max2x2_noidx<T>, &dense2<T, int32_t>, &dense2<T, int64_t>,
          &avg2x2<T>,          &avg_dense2<T>,        &sum<T>};
}

constexpr PoolKernelTable make_table() { return {make_rows<float>(), make_rows<double>()}; }

}  // namespace pool_k
}  // namespace PYFASTNN_ISA_NS
}  // namespace pyfastnn
#endif
