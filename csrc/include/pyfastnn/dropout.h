// Inverted dropout with a counter-based random mask: whether element i is kept is a pure
// function of (seed, i), so the backward pass regenerates the mask from the seed instead of
// storing it, and the result does not depend on the thread count or the instruction set.
//
// The mask (the NumPy reference in pyfastnn/backends/reference/dropout.py computes the same
// bits with uint64 arithmetic):
//   mix(z)  = splitmix64's finalizer: z ^= z >> 30; z *= 0xBF58476D1CE4E5B9;
//             z ^= z >> 27; z *= 0x94D049BB133111EB; z ^= z >> 31   (all mod 2^64)
//   key     = mix(seed + G),  G = 0x9E3779B97F4A7C15 (splitmix64's increment)
//   h(j)    = mix(key + j * G)                 one 64-bit hash per pair of elements
//   u(i)    = low 32 bits of h(i / 2) for even i, high 32 bits for odd i
//   keep(i) = u(i) >= threshold,  threshold = floor(p * 2^32)   (p = 1: nothing kept)
//   y[i]    = keep(i) ? x[i] * T(1 / (1 - p)) : 0     (x[i] * scale rounded once, in T)
#pragma once
#include <cstdint>

namespace pyfastnn {

constexpr uint64_t kDropoutGamma = 0x9E3779B97F4A7C15ull;

inline uint64_t dropout_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline uint64_t dropout_key(uint64_t seed) { return dropout_mix(seed + kDropoutGamma); }

// floor(p * 2^32) for p in [0, 1] (2^32 for p = 1: no element is kept).
inline uint64_t dropout_threshold(double p) {
  if (!(p > 0)) return 0;
  if (p >= 1) return uint64_t(1) << 32;
  return static_cast<uint64_t>(p * 4294967296.0);
}

// y[i] = keep(i) ? x[i] / (1 - p) : 0 over the flat index i in [0, n); x may equal y (in
// place). p in [0, 1]. The backward pass is the same call on the gradient with the same seed.
void dropout_forward(const float* x, float* y, int64_t n, double p, uint64_t seed, int num_threads);
void dropout_forward(const double* x, double* y, int64_t n, double p, uint64_t seed, int num_threads);

// mask[i] = keep(i) (1 kept, 0 dropped).
void dropout_mask(uint8_t* mask, int64_t n, double p, uint64_t seed, int num_threads);

}  // namespace pyfastnn
