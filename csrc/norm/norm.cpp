// Batch norm, layer norm and local response norm: the per-channel / per-row arithmetic,
// the thread split and the run-time choice of the row kernels (norm_impl.h).
#include "pyfastnn/norm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "norm/norm_impl.h"
#include "pool/parallel.h"
#include "pyfastnn/isa.h"

namespace pyfastnn {
namespace {

using poolnorm::parallel_ranges;

const NormKernelTable& table() { return PYFASTNN_ISA_SELECT(norm_kernels); }

template <class T>
const NormRowKernels<T>& rows();
template <>
const NormRowKernels<float>& rows<float>() {
  return table().f32;
}
template <>
const NormRowKernels<double>& rows<double>() {
  return table().f64;
}

// Channels worth one task each: enough of them to keep the threads balanced (a channel's
// data then stays in cache between its two passes); otherwise the planes are split.
bool channel_tasks(int64_t C, int threads) { return C >= 4 * static_cast<int64_t>(threads); }

struct ChannelStats {
  double mean, invstd;
};

// Mean and invstd from shifted sums; the running statistics updated.
template <class T>
ChannelStats finish_channel(int64_t c, double shift, double s1, double s2, int64_t M, double eps, double* save_mean,
                            double* save_invstd, T* running_mean, T* running_var, double momentum) {
  const double m1 = s1 / static_cast<double>(M);
  const double var = std::max(0.0, s2 / static_cast<double>(M) - m1 * m1);
  const double mean = shift + m1;
  const double invstd = 1.0 / std::sqrt(var + eps);
  save_mean[c] = mean;
  save_invstd[c] = invstd;
  if (running_mean)
    running_mean[c] = static_cast<T>((1.0 - momentum) * static_cast<double>(running_mean[c]) + momentum * mean);
  if (running_var) {
    const double unbiased = M > 1 ? var * static_cast<double>(M) / static_cast<double>(M - 1) : var;
    running_var[c] = static_cast<T>((1.0 - momentum) * static_cast<double>(running_var[c]) + momentum * unbiased);
  }
  return {mean, invstd};
}

// Per-channel (scale, shift) of y = (x - mean) * scale + shift.
template <class T>
void coefficients(int64_t c, const T* weight, const T* bias, const double* mean, const double* invstd, T* m, T* a,
                  T* b) {
  *m = static_cast<T>(mean[c]);
  *a = static_cast<T>(invstd[c] * (weight ? static_cast<double>(weight[c]) : 1.0));
  *b = bias ? bias[c] : T(0);
}

}  // namespace

template <class T>
void batch_norm_forward_stats(const T* x, T* y, int64_t N, int64_t C, int64_t S, const T* weight, const T* bias,
                              const double* mean, const double* invstd, int num_threads) {
  const auto& k = rows<T>();
  if (S == 1) {  // (N, C): rows, vectorized over channels
    std::vector<T> m(C), a(C), b(C);
    for (int64_t c = 0; c < C; ++c) coefficients(c, weight, bias, mean, invstd, &m[c], &a[c], &b[c]);
    parallel_ranges(N, C, num_threads, [&](int64_t n0, int64_t n1) {
      for (int64_t n = n0; n < n1; ++n) {
        const T* xr = x + n * C;
        T* yr = y + n * C;
#pragma omp simd
        for (int64_t c = 0; c < C; ++c) yr[c] = (xr[c] - m[c]) * a[c] + b[c];
      }
    });
    return;
  }
  parallel_ranges(N * C, S, num_threads, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t c = p % C;
      T m, a, b;
      coefficients(c, weight, bias, mean, invstd, &m, &a, &b);
      k.affine(x + p * S, y + p * S, S, m, a, b);
    }
  });
}

template <class T>
void batch_norm_forward_train(const T* x, T* y, int64_t N, int64_t C, int64_t S, const T* weight, const T* bias,
                              double eps, double* save_mean, double* save_invstd, T* running_mean, T* running_var,
                              double momentum, int num_threads) {
  const auto& k = rows<T>();
  const int64_t M = N * S;
  if (N <= 0 || C <= 0 || S <= 0) return;
  if (S == 1) {  // (N, C): channel blocks, rows accumulated in order, vectorized over channels
    parallel_ranges(C, 2 * N, num_threads, [&](int64_t c0, int64_t c1) {
      const int64_t w = c1 - c0;
      std::vector<double> shift(w), s1(w, 0.0), s2(w, 0.0);
      for (int64_t c = 0; c < w; ++c) shift[c] = static_cast<double>(x[c0 + c]);
      for (int64_t n = 0; n < N; ++n) {
        const T* xr = x + n * C + c0;
#pragma omp simd
        for (int64_t c = 0; c < w; ++c) {
          const double v = static_cast<double>(xr[c]) - shift[c];
          s1[c] += v;
          s2[c] += v * v;
        }
      }
      std::vector<T> m(w), a(w), b(w);
      for (int64_t c = 0; c < w; ++c) {
        finish_channel(c0 + c, shift[c], s1[c], s2[c], M, eps, save_mean, save_invstd, running_mean, running_var,
                       momentum);
        coefficients(c0 + c, weight, bias, save_mean, save_invstd, &m[c], &a[c], &b[c]);
      }
      for (int64_t n = 0; n < N; ++n) {
        const T* xr = x + n * C + c0;
        T* yr = y + n * C + c0;
#pragma omp simd
        for (int64_t c = 0; c < w; ++c) yr[c] = (xr[c] - m[c]) * a[c] + b[c];
      }
    });
    return;
  }
  if (channel_tasks(C, num_threads)) {  // each channel: its sums, then its normalization
    parallel_ranges(C, 2 * M, num_threads, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        const double shift = static_cast<double>(x[c * S]);
        double s1 = 0, s2 = 0;
        for (int64_t n = 0; n < N; ++n) {
          double a, b;
          k.sums(x + (n * C + c) * S, S, shift, &a, &b);
          s1 += a;
          s2 += b;
        }
        finish_channel(c, shift, s1, s2, M, eps, save_mean, save_invstd, running_mean, running_var, momentum);
        T m, a, b;
        coefficients(c, weight, bias, save_mean, save_invstd, &m, &a, &b);
        for (int64_t n = 0; n < N; ++n) k.affine(x + (n * C + c) * S, y + (n * C + c) * S, S, m, a, b);
      }
    });
    return;
  }
  // few channels: plane sums in parallel, added per channel in order of n (same arithmetic)
  std::vector<double> ps(2 * N * C);
  parallel_ranges(N * C, S, num_threads, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p)
      k.sums(x + p * S, S, static_cast<double>(x[(p % C) * S]), &ps[2 * p], &ps[2 * p + 1]);
  });
  for (int64_t c = 0; c < C; ++c) {
    double s1 = 0, s2 = 0;
    for (int64_t n = 0; n < N; ++n) {
      s1 += ps[2 * (n * C + c)];
      s2 += ps[2 * (n * C + c) + 1];
    }
    finish_channel(c, static_cast<double>(x[c * S]), s1, s2, M, eps, save_mean, save_invstd, running_mean, running_var,
                   momentum);
  }
  batch_norm_forward_stats(x, y, N, C, S, weight, bias, save_mean, save_invstd, num_threads);
}

namespace {

struct GradCoef {
  double a, c, d;  // gx = a * gy + c * (x - mean) + d
};

GradCoef grad_coefficients(double sg, double sgx, double w, double invstd, int64_t M, bool training) {
  const double kk = w * invstd;
  if (!training) return {kk, 0.0, 0.0};
  const double inv_m = 1.0 / static_cast<double>(M);
  return {kk, -kk * invstd * invstd * sgx * inv_m, -kk * sg * inv_m};
}

}  // namespace

template <class T>
void batch_norm_backward(const T* gy, const T* x, T* gx, T* gweight, T* gbias, int64_t N, int64_t C, int64_t S,
                         const T* weight, const double* mean, const double* invstd, bool training, int num_threads) {
  const auto& k = rows<T>();
  const int64_t M = N * S;
  if (C <= 0) return;
  const bool need_sums = (training && gx) || gweight || gbias;
  auto finish = [&](int64_t c, double sg, double sgx) {
    if (gweight) gweight[c] = static_cast<T>(sgx * invstd[c]);
    if (gbias) gbias[c] = static_cast<T>(sg);
    const double w = weight ? static_cast<double>(weight[c]) : 1.0;
    return grad_coefficients(sg, sgx, w, invstd[c], M, training);
  };
  if (M <= 0) {
    for (int64_t c = 0; c < C; ++c) finish(c, 0.0, 0.0);
    return;
  }
  if (S == 1) {
    parallel_ranges(C, 2 * N, num_threads, [&](int64_t c0, int64_t c1) {
      const int64_t w = c1 - c0;
      std::vector<double> mu(mean + c0, mean + c1), sg(w, 0.0), sgx(w, 0.0);
      if (need_sums)
        for (int64_t n = 0; n < N; ++n) {
          const T* gr = gy + n * C + c0;
          const T* xr = x + n * C + c0;
#pragma omp simd
          for (int64_t c = 0; c < w; ++c) {
            const double g = static_cast<double>(gr[c]);
            sg[c] += g;
            sgx[c] += g * (static_cast<double>(xr[c]) - mu[c]);
          }
        }
      std::vector<T> a(w), cc(w), m(w), d(w);
      for (int64_t c = 0; c < w; ++c) {
        const GradCoef g = finish(c0 + c, sg[c], sgx[c]);
        a[c] = static_cast<T>(g.a);
        cc[c] = static_cast<T>(g.c);
        d[c] = static_cast<T>(g.d);
        m[c] = static_cast<T>(mu[c]);
      }
      if (gx)
        for (int64_t n = 0; n < N; ++n) {
          const T* gr = gy + n * C + c0;
          const T* xr = x + n * C + c0;
          T* out = gx + n * C + c0;
#pragma omp simd
          for (int64_t c = 0; c < w; ++c) out[c] = a[c] * gr[c] + cc[c] * (xr[c] - m[c]) + d[c];
        }
    });
    return;
  }
  auto write_dx = [&](int64_t p, const GradCoef& g, int64_t c) {
    k.grad(gy + p * S, nullptr, x + p * S, gx + p * S, S, static_cast<T>(g.a), static_cast<T>(g.c),
           static_cast<T>(mean[c]), static_cast<T>(g.d));
  };
  if (channel_tasks(C, num_threads)) {
    parallel_ranges(C, (need_sums ? 2 : 0) * M + (gx ? 3 : 0) * M, num_threads, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        double sg = 0, sgx = 0;
        if (need_sums)
          for (int64_t n = 0; n < N; ++n) {
            double a, b;
            k.dot_sums(gy + (n * C + c) * S, nullptr, x + (n * C + c) * S, S, mean[c], &a, &b);
            sg += a;
            sgx += b;
          }
        const GradCoef g = finish(c, sg, sgx);
        if (gx)
          for (int64_t n = 0; n < N; ++n) write_dx(n * C + c, g, c);
      }
    });
    return;
  }
  std::vector<double> ps(need_sums ? 2 * N * C : 0);
  if (need_sums)
    parallel_ranges(N * C, 2 * S, num_threads, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p)
        k.dot_sums(gy + p * S, nullptr, x + p * S, S, mean[p % C], &ps[2 * p], &ps[2 * p + 1]);
    });
  std::vector<GradCoef> coef(C);
  for (int64_t c = 0; c < C; ++c) {
    double sg = 0, sgx = 0;
    if (need_sums)
      for (int64_t n = 0; n < N; ++n) {
        sg += ps[2 * (n * C + c)];
        sgx += ps[2 * (n * C + c) + 1];
      }
    coef[c] = finish(c, sg, sgx);
  }
  if (gx)
    parallel_ranges(N * C, 3 * S, num_threads, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) write_dx(p, coef[p % C], p % C);
    });
}

template <class T>
void layer_norm_forward(const T* x, T* y, int64_t R, int64_t D, const T* weight, const T* bias, double eps,
                        double* mean, double* rstd, int num_threads) {
  const auto& k = rows<T>();
  if (D <= 0) return;
  parallel_ranges(R, 3 * D, num_threads, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* xr = x + r * D;
      const double shift = static_cast<double>(xr[0]);
      double s1, s2;
      k.sums(xr, D, shift, &s1, &s2);
      const double m1 = s1 / static_cast<double>(D);
      const double var = std::max(0.0, s2 / static_cast<double>(D) - m1 * m1);
      mean[r] = shift + m1;
      rstd[r] = 1.0 / std::sqrt(var + eps);
      k.ln_apply(xr, y + r * D, D, static_cast<T>(mean[r]), static_cast<T>(rstd[r]), weight, bias);
    }
  });
}

template <class T>
void layer_norm_backward(const T* gy, const T* x, T* gx, T* gweight, T* gbias, int64_t R, int64_t D, const T* weight,
                         const double* mean, const double* rstd, int num_threads) {
  const auto& k = rows<T>();
  if (D <= 0) return;
  if (gx)
    parallel_ranges(R, 5 * D, num_threads, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        double sg, sgx;
        k.dot_sums(gy + r * D, weight, x + r * D, D, mean[r], &sg, &sgx);
        const double a = rstd[r], inv_d = 1.0 / static_cast<double>(D);
        k.grad(gy + r * D, weight, x + r * D, gx + r * D, D, static_cast<T>(a),
               static_cast<T>(-a * a * a * sgx * inv_d), static_cast<T>(mean[r]), static_cast<T>(-a * sg * inv_d));
      }
    });
  if (!gweight && !gbias) return;
  // column sums over fixed blocks of rows (partials added in order: thread-count independent)
  constexpr int64_t kRowBlock = 256, kColBlock = 512;
  const int64_t nrb = std::max<int64_t>(1, (R + kRowBlock - 1) / kRowBlock), ncb = (D + kColBlock - 1) / kColBlock;
  std::vector<double> dw(gweight ? nrb * D : 0, 0.0), db(gbias ? nrb * D : 0, 0.0);
  parallel_ranges(nrb * ncb, kRowBlock * kColBlock, num_threads, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t rb = t / ncb, cb = t % ncb;
      const int64_t d0 = cb * kColBlock, d1 = std::min(D, d0 + kColBlock);
      double* pw = gweight ? dw.data() + rb * D + d0 : nullptr;
      double* pb = gbias ? db.data() + rb * D + d0 : nullptr;
      for (int64_t r = rb * kRowBlock; r < std::min(R, (rb + 1) * kRowBlock); ++r)
        k.ln_cols(gy + r * D + d0, x + r * D + d0, d1 - d0, mean[r], rstd[r], pw, pb);
    }
  });
  for (int64_t d = 0; d < D; ++d) {
    double sw = 0, sb = 0;
    for (int64_t rb = 0; rb < nrb; ++rb) {
      if (gweight) sw += dw[rb * D + d];
      if (gbias) sb += db[rb * D + d];
    }
    if (gweight) gweight[d] = static_cast<T>(sw);
    if (gbias) gbias[d] = static_cast<T>(sb);
  }
}

namespace {

// Columns [s0, s0 + len) of one sample: sq[c][s] = x^2, den[c][s] = k + alpha/size * window sum.
template <class T>
void lrn_denominators(const T* xs, int64_t C, int64_t S, int64_t s0, int64_t len, int64_t size, double alpha,
                      double k, double* sq, double* den) {
  const int64_t lo = size / 2, hi = (size - 1) / 2;
  for (int64_t c = 0; c < C; ++c) {
    const T* xr = xs + c * S + s0;
    double* q = sq + c * len;
    for (int64_t s = 0; s < len; ++s) q[s] = static_cast<double>(xr[s]) * static_cast<double>(xr[s]);
  }
  const double scale = alpha / static_cast<double>(size);
  for (int64_t c = 0; c < C; ++c) {
    double* d = den + c * len;
    for (int64_t s = 0; s < len; ++s) d[s] = 0.0;
    for (int64_t j = std::max<int64_t>(0, c - lo); j <= std::min(C - 1, c + hi); ++j) {
      const double* q = sq + j * len;
      for (int64_t s = 0; s < len; ++s) d[s] += q[s];
    }
    for (int64_t s = 0; s < len; ++s) d[s] = k + scale * d[s];
  }
}

constexpr int64_t kLrnBlock = 64;

}  // namespace

template <class T>
void local_response_norm_forward(const T* x, T* y, int64_t N, int64_t C, int64_t S, int64_t size, double alpha,
                                 double beta, double k, int num_threads) {
  if (C <= 0 || S <= 0) return;
  const int64_t nsb = (S + kLrnBlock - 1) / kLrnBlock;
  parallel_ranges(N * nsb, C * kLrnBlock * (size + 4), num_threads, [&](int64_t t0, int64_t t1) {
    std::vector<double> sq(C * kLrnBlock), den(C * kLrnBlock);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t n = t / nsb, s0 = (t % nsb) * kLrnBlock, len = std::min(kLrnBlock, S - s0);
      lrn_denominators(x + n * C * S, C, S, s0, len, size, alpha, k, sq.data(), den.data());
      for (int64_t c = 0; c < C; ++c) {
        const T* xr = x + (n * C + c) * S + s0;
        T* yr = y + (n * C + c) * S + s0;
        const double* d = den.data() + c * len;
        for (int64_t s = 0; s < len; ++s) yr[s] = static_cast<T>(static_cast<double>(xr[s]) / std::pow(d[s], beta));
      }
    }
  });
}

template <class T>
void local_response_norm_backward(const T* gy, const T* x, T* gx, int64_t N, int64_t C, int64_t S, int64_t size,
                                  double alpha, double beta, double k, int num_threads) {
  if (C <= 0 || S <= 0) return;
  const int64_t lo = size / 2, hi = (size - 1) / 2;
  const int64_t nsb = (S + kLrnBlock - 1) / kLrnBlock;
  const double coef = 2.0 * alpha * beta / static_cast<double>(size);
  parallel_ranges(N * nsb, C * kLrnBlock * (size + 8), num_threads, [&](int64_t t0, int64_t t1) {
    std::vector<double> sq(C * kLrnBlock), den(C * kLrnBlock), acc(kLrnBlock);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t n = t / nsb, s0 = (t % nsb) * kLrnBlock, len = std::min(kLrnBlock, S - s0);
      lrn_denominators(x + n * C * S, C, S, s0, len, size, alpha, k, sq.data(), den.data());
      // sq <- gy * x * den^(-beta-1); den <- den^(-beta)
      for (int64_t c = 0; c < C; ++c) {
        const T* xr = x + (n * C + c) * S + s0;
        const T* gr = gy + (n * C + c) * S + s0;
        double* q = sq.data() + c * len;
        double* d = den.data() + c * len;
        for (int64_t s = 0; s < len; ++s) {
          const double p = std::pow(d[s], -beta);
          q[s] = static_cast<double>(gr[s]) * static_cast<double>(xr[s]) * p / d[s];
          d[s] = p;
        }
      }
      // gx[j] = gy[j] den[j]^-beta - coef x[j] sum_{c = j - hi}^{j + lo} gy[c] x[c] den[c]^(-beta-1)
      for (int64_t j = 0; j < C; ++j) {
        for (int64_t s = 0; s < len; ++s) acc[s] = 0.0;
        for (int64_t c = std::max<int64_t>(0, j - hi); c <= std::min(C - 1, j + lo); ++c) {
          const double* q = sq.data() + c * len;
          for (int64_t s = 0; s < len; ++s) acc[s] += q[s];
        }
        const T* xr = x + (n * C + j) * S + s0;
        const T* gr = gy + (n * C + j) * S + s0;
        const double* d = den.data() + j * len;
        T* out = gx + (n * C + j) * S + s0;
        for (int64_t s = 0; s < len; ++s)
          out[s] = static_cast<T>(static_cast<double>(gr[s]) * d[s] - coef * static_cast<double>(xr[s]) * acc[s]);
      }
    }
  });
}

#define PYFASTNN_NORM_T(T)                                                                                           \
  template void batch_norm_forward_train<T>(const T*, T*, int64_t, int64_t, int64_t, const T*, const T*, double,    \
                                            double*, double*, T*, T*, double, int);                                 \
  template void batch_norm_forward_stats<T>(const T*, T*, int64_t, int64_t, int64_t, const T*, const T*,            \
                                            const double*, const double*, int);                                     \
  template void batch_norm_backward<T>(const T*, const T*, T*, T*, T*, int64_t, int64_t, int64_t, const T*,         \
                                       const double*, const double*, bool, int);                                    \
  template void layer_norm_forward<T>(const T*, T*, int64_t, int64_t, const T*, const T*, double, double*, double*, \
                                      int);                                                                         \
  template void layer_norm_backward<T>(const T*, const T*, T*, T*, T*, int64_t, int64_t, const T*, const double*,   \
                                       const double*, int);                                                         \
  template void local_response_norm_forward<T>(const T*, T*, int64_t, int64_t, int64_t, int64_t, double, double,   \
                                               double, int);                                                        \
  template void local_response_norm_backward<T>(const T*, const T*, T*, int64_t, int64_t, int64_t, int64_t, double, \
                                                double, double, int);

PYFASTNN_NORM_T(float)
PYFASTNN_NORM_T(double)

}  // namespace pyfastnn
