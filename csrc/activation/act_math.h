// Vectorizable float math for the activation kernels: branch-free scalar code (selects, bit
// casts, polynomials) that GCC turns into SIMD code inside `#pragma omp simd` loops of a
// per-ISA translation unit. The exponential is pyfastnn/vmath.h's (Cephes' polynomial and
// range reduction), extended to a two-part argument (exp_sum, which keeps e^(-x^2/2)
// accurate far into the tail) and to the clamped variants the kernels need without
// vmath::exp's NaN/overflow selects. The double overloads are libm's (the accurate path:
// gradcheck and reference comparisons).
//
// Accuracy of the float kernels built on these, against a float64 reference (measured over
// dense grids and +-100; tests/test_activation.py checks it): at most 3 ulp for sigmoid,
// tanh, softplus, silu, elu, selu, hardswish; 8 ulp for gelu; gelu_tanh loses about |2u|
// ulp of its exponent 2u (~100 ulp near x = -8, where the value is 1e-27). Results below
// ~1e-37 (underflow) are only absolutely accurate. NaN in gives NaN out.
#pragma once
#include <cmath>
#include <cstdint>


namespace pyfastnn {
namespace actmath {
namespace {  // internal linkage: each ISA translation unit keeps its own copies

constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f;  // 9 significant bits: n * kLn2Hi is exact for |n| < 2^15
constexpr float kLn2Lo = -2.12194440e-4f;
constexpr float kShifter = 12582912.0f;  // 1.5 * 2^23: (v + kShifter) - kShifter rounds v to an integer
constexpr float kExpMax = 88.3762626647949f;  // e^x taken to overflow above (as vmath::exp)
constexpr float kExpMin = -87.3365447505531f;  // e^x is denormal below

// e^r for |r| <= ln(2)/2 (Cephes' expf polynomial).
inline float exp_poly(float r) {
  const float z = r * r;
  float y = 1.9875691500E-4f;
  y = y * r + 1.3981999507E-3f;
  y = y * r + 8.3334519073E-3f;
  y = y * r + 4.1665795894E-2f;
  y = y * r + 1.6666665459E-1f;
  y = y * r + 5.0000001201E-1f;
  return y * z + r + 1.0f;
}

// 2^n for an integral float n in [-126, 127].
inline float pow2i(float n) {
  return __builtin_bit_cast(float, static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23);
}

// min(max(x, lo), hi) that lets NaN through.
inline float clamp(float x, float lo, float hi) { return x < lo ? lo : (x > hi ? hi : x); }

// e^(a + b) for a + b in [kExpMin, kExpMax] (no range checks: callers clamp), where `a` is
// exact as given and large (e.g. -x^2/2 from a split product) and b a modest correction
// (|b| below a few units): a + b is never rounded as one number, so the result keeps full
// relative accuracy where a single float argument near -80 would lose about 2^-18 of it.
inline float exp_sum(float a, float b) {
  const float n = ((a + b) * kLog2e + kShifter) - kShifter;
  // a - n*ln2_hi is exact: n*ln2_hi has at most 17 bits and is within a few units of a
  float r = (a - n * kLn2Hi) + b;
  r = r - n * kLn2Lo;
  return exp_poly(r) * pow2i(n);
}

// e^x with the argument clamped to [kExpMin, 88.37]: always finite and nonzero (1.2e-38 at
// the bottom, 2.4e38 at the top), which is what 1 / (1 + e^x) and its derivatives want.
inline float exp_bounded(float x) { return exp_sum(clamp(x, kExpMin, 88.37f), 0.0f); }

// e^x with the bottom clamped as exp_bounded, but +inf above kExpMax: for x / (1 + e^-x)
// at very negative x, which must go to 0.
inline float exp_or_inf(float x) { return x > kExpMax ? __builtin_inff() : exp_bounded(x); }

// e^x - 1, accurate near 0 (where e^x - 1 would cancel): x = n ln2 + r,
// e^x - 1 = 2^n (e^r - 1) + (2^n - 1), with e^r - 1 by its Taylor series (|r| <= 0.347).
inline float expm1(float x) {
  const float xc = clamp(x, -30.0f, 88.37f);  // e^-30 - 1 rounds to -1; n <= 127
  const float n = (xc * kLog2e + kShifter) - kShifter;
  float r = xc - n * kLn2Hi;
  r = r - n * kLn2Lo;
  float p = 2.75573192e-6f;  // 1/9!
  p = p * r + 2.48015873e-5f;  // 1/8!
  p = p * r + 1.98412698e-4f;  // 1/7!
  p = p * r + 1.38888889e-3f;  // 1/6!
  p = p * r + 8.33333333e-3f;  // 1/5!
  p = p * r + 4.16666667e-2f;  // 1/4!
  p = p * r + 1.66666667e-1f;  // 1/3!
  p = p * r + 0.5f;
  const float em1r = p * (r * r) + r;  // e^r - 1
  const float scale = pow2i(n);
  const float out = scale * em1r + (scale - 1.0f);
  return x > kExpMax ? __builtin_inff() : out;
}

// log(1 + u) for u in [0, 1], accurate relative to itself (also for tiny u):
// 2 atanh(s) = 2 (s + s^3/3 + ... + s^15/15) with s = u / (2 + u) <= 1/3 (the series'
// remainder is below 2e-9). NaN gives NaN.
inline float log1p_unit(float u) {
  const float s = u / (2.0f + u);
  const float s2 = s * s;
  float p = 1.0f / 15.0f;
  p = p * s2 + 1.0f / 13.0f;
  p = p * s2 + 1.0f / 11.0f;
  p = p * s2 + 1.0f / 9.0f;
  p = p * s2 + 1.0f / 7.0f;
  p = p * s2 + 1.0f / 5.0f;
  p = p * s2 + 1.0f / 3.0f;
  const float s2s = s + s;
  return s2s * s2 * p + s2s;
}

// 1 / (1 + e^-x): 1.2e-38 below about -88 (exact: 0 below -103), 1 above 17.
inline float sigmoid(float x) { return 1.0f / (1.0f + exp_bounded(-x)); }

// tanh(|x|) = em / (em + 2) with em = e^(2|x|) - 1 (accurate for small |x|), or as
// 1 - 2 / (em + 2) from |x| = 0.55 on (where em + 2 rounding would make the quotient wobble
// by an ulp below 1); tanh(x) rounds to +-1 from |x| = 9.02 on.
inline float tanh(float x) {
  const float ax = x < 0.0f ? -x : x;
  const float em = expm1(2.0f * (ax > 10.0f ? 10.0f : ax));
  const float r = 1.0f / (em + 2.0f);
  const float t = ax < 0.55f ? em * r : 1.0f - 2.0f * r;
  const float out = x < 0.0f ? -t : t;
  return x != x ? x : out;
}

// The standard normal distribution: the tail Phi(-|x|) (accurate relative to itself, no
// 1 - Phi cancellation) and the density phi(x) = e^(-x^2/2) / sqrt(2 pi), sharing one
// exponential; both 0 for |x| > 13 (Phi(-13) = 6e-39), NaN for NaN.
//   e^(-x^2/2): x = xh + xl split into 12-bit halves, x^2/2 = xh^2/2 + (xh xl + xl^2/2)
//   with the first part exact, so the exponential is accurate far into the tail.
//   erfc(z), z = |x|/sqrt(2): t e^(-z^2) R(t) with t = 1 / (1 + z/2) and R a degree-8
//   polynomial in t - 7/12 (fitted: relative error 4.3e-8 for z in [0, 10]; the form of
//   Numerical Recipes' erfcc).
inline void normal_tail_pdf(float x, float* tail, float* pdf) {
  const float ax = x < 0.0f ? -x : x;
  const float axc = ax > 13.0f ? 13.0f : ax;
  const float xh = __builtin_bit_cast(float, __builtin_bit_cast(uint32_t, axc) & 0xfffff000u);
  const float xl = axc - xh;
  float e = exp_sum(-0.5f * (xh * xh), -(xh * xl + 0.5f * (xl * xl)));
  e = ax > 13.0f ? 0.0f : e;
  const float t = 1.0f / (1.0f + 0.353553390593273762f * ax);
  const float u = t - 0.58333333333f;
  float r = -0.029535016044974327f;  // R(t) / 2
  r = r * u + 0.004459939431399107f;
  r = r * u + 0.05600948631763458f;
  r = r * u - 0.025101246312260628f;
  r = r * u - 0.1020374447107315f;
  r = r * u + 0.041235119104385376f;
  r = r * u + 0.2938448488712311f;
  r = r * u + 0.39146673679351807f;
  r = r * u + 0.28600600361824036f;
  *tail = t * r * e;
  *pdf = 0.398942280401432678f * e;
}

// Phi(x) and phi(x).
inline void normal_cdf_pdf(float x, float* cdf, float* pdf) {
  float tail;
  normal_tail_pdf(x, &tail, pdf);
  *cdf = x < 0.0f ? tail : 1.0f - tail;
}

inline float normal_cdf(float x) {
  float cdf, pdf;
  normal_cdf_pdf(x, &cdf, &pdf);
  return cdf;
}

// ---- double: libm ----
inline double expm1(double x) { return std::expm1(x); }
inline double log1p_unit(double x) { return std::log1p(x); }
inline double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
inline double tanh(double x) { return std::tanh(x); }
inline double normal_cdf(double x) { return 0.5 * std::erfc(-x * 0.707106781186547524400844362104849); }
inline double normal_pdf(double x) { return 0.398942280401432677939946059934382 * std::exp(-0.5 * x * x); }
inline void normal_cdf_pdf(double x, double* cdf, double* pdf) {
  *cdf = normal_cdf(x);
  *pdf = normal_pdf(x);
}

inline float exp(float x) { return exp_bounded(x); }
inline double exp(double x) { return std::exp(x); }
inline double exp_or_inf(double x) { return std::exp(x); }

}  // namespace
}  // namespace actmath
}  // namespace pyfastnn
