// Vectorizable math for elementwise kernels.
//
// The float versions are branch-free scalar code (Cephes' polynomials, bit tricks through
// __builtin_bit_cast) that GCC turns into SIMD code inside `#pragma omp simd` loops of a
// per-ISA translation unit: libm's expf/logf would stay scalar calls. Accuracy: within 2
// ulp of the correctly rounded result over the whole float range (tested through the
// kernels that use them). The double versions are libm's: double is the gradcheck and
// reference-comparison path, where accuracy matters and speed does not.
// Internal linkage (static): each ISA unit keeps its own copy, so the linker can never hand
// a portable unit the AVX-512 build of a function that was not inlined.
#pragma once
#include <cmath>
#include <cstdint>

namespace pyfastnn {
namespace vmath {

// e^x. Inputs below -87.34 give 2^-126 (~1.2e-38) instead of a denormal or 0, which is
// harmless where exp feeds a sum (softmax) or 1 + e^x; above 88.38 gives +inf; NaN gives NaN.
static inline float exp(float x) {
  const bool nan = x != x;
  const bool over = x > 88.3762626647949f;
  float xc = x < -87.3365447505531f ? -87.3365447505531f : (x > 88.3762626647949f ? 88.3762626647949f : x);
  // n = round(x / ln 2) by the 1.5 * 2^23 trick (no rint call), r = x - n ln2 in two parts
  const float shifter = 12582912.0f;
  float n = (xc * 1.44269504088896341f + shifter) - shifter;
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float z = r * r;
  float y = 1.9875691500E-4f;
  y = y * r + 1.3981999507E-3f;
  y = y * r + 8.3334519073E-3f;
  y = y * r + 4.1665795894E-2f;
  y = y * r + 1.6666665459E-1f;
  y = y * r + 5.0000001201E-1f;
  y = y * z + r + 1.0f;
  const int32_t e = static_cast<int32_t>(n) + 127;
  const float scale = __builtin_bit_cast(float, static_cast<uint32_t>(e) << 23);
  float out = y * scale;
  out = over ? __builtin_inff() : out;
  return nan ? x : out;
}

// Natural log. log(0) = -inf, log(x < 0) = NaN, log(+inf) = +inf, log(NaN) = NaN.
static inline float log(float x) {
  const uint32_t bits = __builtin_bit_cast(uint32_t, x);
  // denormals: scale by 2^23 first so the exponent field is meaningful
  const bool denormal = x > 0.0f && x < 1.17549435e-38f;
  const uint32_t b = denormal ? __builtin_bit_cast(uint32_t, x * 8388608.0f) : bits;
  int32_t e = static_cast<int32_t>((b >> 23) & 0xff) - 126 - (denormal ? 23 : 0);
  float m = __builtin_bit_cast(float, (b & 0x007fffffu) | 0x3f000000u);  // mantissa in [0.5, 1)
  const bool small = m < 0.707106781186547524f;
  e = small ? e - 1 : e;
  m = small ? m + m - 1.0f : m - 1.0f;
  const float z = m * m;
  float y = 7.0376836292E-2f;
  y = y * m - 1.1514610310E-1f;
  y = y * m + 1.1676998740E-1f;
  y = y * m - 1.2420140846E-1f;
  y = y * m + 1.4249322787E-1f;
  y = y * m - 1.6668057665E-1f;
  y = y * m + 2.0000714765E-1f;
  y = y * m - 2.4999993993E-1f;
  y = y * m + 3.3333331174E-1f;
  y = y * m * z;
  const float fe = static_cast<float>(e);
  y = y + fe * -2.12194440e-4f;
  y = y - 0.5f * z;
  float out = m + y + fe * 0.693359375f;
  out = x == 0.0f ? -__builtin_inff() : out;
  out = x < 0.0f ? __builtin_nanf("") : out;
  out = x == __builtin_inff() ? x : out;
  return x != x ? x : out;
}

static inline double exp(double x) { return std::exp(x); }
static inline double log(double x) { return std::log(x); }

}  // namespace vmath
}  // namespace pyfastnn
