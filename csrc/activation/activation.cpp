// Activation dispatch: kind names, the thread split, the run-time ISA choice (float32) and
// the float64 kernels (libm; compiled here, in the baseline translation unit).
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "pyfastnn/isa.h"
#define PYFASTNN_ISA_NS f64
#include "activation/activation_impl.h"

namespace pyfastnn {
namespace {

const char* const kNames[] = {"relu",      "relu6", "hardtanh", "leaky_relu", "elu",      "selu",      "gelu",
                              "gelu_tanh", "silu",  "sigmoid",  "tanh",       "softplus", "hardswish", "hardsigmoid"};
static_assert(sizeof(kNames) / sizeof(kNames[0]) == static_cast<int>(Act::count), "one name per kind");

// Fewest elements worth a thread of their own: waking a thread costs a few microseconds,
// about what a memory-bound kernel (relu) does with 32K floats, or one calling exp with 8K.
int64_t grain(Act kind) {
  switch (kind) {
    case Act::relu:
    case Act::relu6:
    case Act::hardtanh:
    case Act::leaky_relu:
    case Act::hardswish:
    case Act::hardsigmoid:
      return int64_t(1) << 15;
    default:
      return int64_t(1) << 13;
  }
}

// f(begin, end, thread) over [0, n) in at most `threads` pieces of at least `min_chunk`
// elements, each starting at a multiple of 16 (whole cache lines of floats).
template <class F>
void parallel_ranges(int64_t n, int64_t min_chunk, int threads, F&& f) {
  int64_t t = std::min<int64_t>(threads, n / std::max<int64_t>(min_chunk, 1));
  if (t <= 1) {
    f(int64_t(0), n, 0);
    return;
  }
#pragma omp parallel num_threads(static_cast<int>(t))
  {
    const int64_t id = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t chunk = ((n + nt - 1) / nt + 15) / 16 * 16;
    const int64_t b = std::min(n, id * chunk), e = std::min(n, b + chunk);
    if (b < e) f(b, e, static_cast<int>(id));
  }
}

int used_threads(int64_t n, int64_t min_chunk, int threads) {
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, n / std::max<int64_t>(min_chunk, 1))));
}

// The kernels of one dtype behind one interface: float32 from the active ISA's table,
// float64 from the libm instantiation above.
struct F32 {
  using T = float;
  const ActKernelTable& k = PYFASTNN_ISA_SELECT(act_kernels);
  void forward(Act kind, const T* x, T* y, int64_t n, double a, double b) const {
    k.forward(kind, x, y, n, float(a), float(b));
  }
  void backward(Act kind, bool from_y, const T* v, const T* gy, T* gx, int64_t n, double a, double b) const {
    k.backward(kind, from_y, v, gy, gx, n, float(a), float(b));
  }
  void prelu_fwd_s(const T* x, T w, T* y, int64_t n) const { k.prelu_forward_scalar(x, w, y, n); }
  void prelu_fwd_v(const T* x, const T* w, T* y, int64_t n) const { k.prelu_forward_vector(x, w, y, n); }
  double prelu_bwd_s(const T* x, T w, const T* gy, T* gx, int64_t n) const {
    return k.prelu_backward_scalar(x, w, gy, gx, n);
  }
  void prelu_bwd_v(const T* x, const T* w, const T* gy, T* gx, double* acc, int64_t n) const {
    k.prelu_backward_vector(x, w, gy, gx, acc, n);
  }
};

struct F64 {
  using T = double;
  void forward(Act kind, const T* x, T* y, int64_t n, double a, double b) const {
    f64::act::forward<double>(kind, x, y, n, a, b);
  }
  void backward(Act kind, bool from_y, const T* v, const T* gy, T* gx, int64_t n, double a, double b) const {
    f64::act::backward<double>(kind, from_y, v, gy, gx, n, a, b);
  }
  void prelu_fwd_s(const T* x, T w, T* y, int64_t n) const { f64::act::prelu_forward_scalar<double>(x, w, y, n); }
  void prelu_fwd_v(const T* x, const T* w, T* y, int64_t n) const {
    f64::act::prelu_forward_vector<double>(x, w, y, n);
  }
  double prelu_bwd_s(const T* x, T w, const T* gy, T* gx, int64_t n) const {
    return f64::act::prelu_backward_scalar<double>(x, w, gy, gx, n);
  }
  void prelu_bwd_v(const T* x, const T* w, const T* gy, T* gx, double* acc, int64_t n) const {
    f64::act::prelu_backward_vector<double>(x, w, gy, gx, acc, n);
  }
};

template <class K, class T>
void forward_impl(const K& k, Act kind, const T* x, T* y, int64_t n, double alpha, double beta, int threads) {
  if (n <= 0) return;
  parallel_ranges(n, grain(kind), threads,
                  [&](int64_t b, int64_t e, int) { k.forward(kind, x + b, y + b, e - b, alpha, beta); });
}

template <class K, class T>
void backward_impl(const K& k, Act kind, bool from_y, const T* v, const T* gy, T* gx, int64_t n, double alpha,
                   double beta, int threads) {
  if (n <= 0) return;
  parallel_ranges(n, grain(kind), threads, [&](int64_t b, int64_t e, int) {
    k.backward(kind, from_y, v + b, gy + b, gx + b, e - b, alpha, beta);
  });
}

// ---- PReLU ----
// Three layouts: one weight (a single slope over everything); channels with long rows
// (inner >= 16: a slope per row segment); channels with short rows (a slope per element,
// from the weights expanded to one (channels x inner) period).
constexpr int64_t kPreluGrain = int64_t(1) << 15;
constexpr int64_t kShortRow = 16;

template <class T>
std::vector<T> expand_weights(const PreluArgs<T>& a) {
  std::vector<T> w(static_cast<size_t>(a.channels * a.inner));
  for (int64_t c = 0; c < a.channels; ++c)
    for (int64_t j = 0; j < a.inner; ++j) w[c * a.inner + j] = a.w[c];
  return w;
}

template <class K, class T>
void prelu_forward_impl(const K& k, const PreluArgs<T>& a, T* y, int threads) {
  const int64_t n = a.outer * a.channels * a.inner;
  if (n <= 0) return;
  if (a.channels == 1) {
    parallel_ranges(n, kPreluGrain, threads,
                    [&](int64_t b, int64_t e, int) { k.prelu_fwd_s(a.x + b, a.w[0], y + b, e - b); });
  } else if (a.inner >= kShortRow) {
    parallel_ranges(n, kPreluGrain, threads, [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e;) {
        const int64_t row = i / a.inner, end = std::min(e, (row + 1) * a.inner);
        k.prelu_fwd_s(a.x + i, a.w[row % a.channels], y + i, end - i);
        i = end;
      }
    });
  } else {
    std::vector<T> expanded;
    const T* w = a.w;
    if (a.inner > 1) {
      expanded = expand_weights(a);
      w = expanded.data();
    }
    const int64_t period = a.channels * a.inner;
    parallel_ranges(n, kPreluGrain, threads, [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e;) {
        const int64_t off = i % period, end = std::min(e, i - off + period);
        k.prelu_fwd_v(a.x + i, w + off, y + i, end - i);
        i = end;
      }
    });
  }
}

template <class K, class T>
void prelu_backward_impl(const K& k, const PreluArgs<T>& a, const T* gy, T* gx, T* gw, int threads) {
  const int64_t n = a.outer * a.channels * a.inner;
  if (gw) std::fill(gw, gw + a.channels, T(0));
  if (n <= 0) return;
  const int nt = used_threads(n, kPreluGrain, threads);
  if (a.channels == 1) {
    std::vector<double> part(nt, 0.0);
    parallel_ranges(n, kPreluGrain, threads, [&](int64_t b, int64_t e, int t) {
      part[t] = k.prelu_bwd_s(a.x + b, a.w[0], gy + b, gx ? gx + b : nullptr, e - b);
    });
    double s = 0.0;
    for (double p : part) s += p;
    if (gw) gw[0] = T(s);
  } else if (a.inner >= kShortRow) {
    std::vector<double> acc(static_cast<size_t>(nt * a.channels), 0.0);
    parallel_ranges(n, kPreluGrain, threads, [&](int64_t b, int64_t e, int t) {
      double* my = acc.data() + t * a.channels;
      for (int64_t i = b; i < e;) {
        const int64_t row = i / a.inner, end = std::min(e, (row + 1) * a.inner);
        const int64_t c = row % a.channels;
        my[c] += k.prelu_bwd_s(a.x + i, a.w[c], gy + i, gx ? gx + i : nullptr, end - i);
        i = end;
      }
    });
    if (gw)
      for (int64_t c = 0; c < a.channels; ++c) {
        double s = 0.0;
        for (int t = 0; t < nt; ++t) s += acc[t * a.channels + c];
        gw[c] = T(s);
      }
  } else {
    std::vector<T> expanded;
    const T* w = a.w;
    if (a.inner > 1) {
      expanded = expand_weights(a);
      w = expanded.data();
    }
    const int64_t period = a.channels * a.inner;
    std::vector<double> acc(gw ? static_cast<size_t>(nt * period) : 0, 0.0);
    parallel_ranges(n, kPreluGrain, threads, [&](int64_t b, int64_t e, int t) {
      double* my = gw ? acc.data() + t * period : nullptr;
      for (int64_t i = b; i < e;) {
        const int64_t off = i % period, end = std::min(e, i - off + period);
        k.prelu_bwd_v(a.x + i, w + off, gy + i, gx ? gx + i : nullptr, my ? my + off : nullptr, end - i);
        i = end;
      }
    });
    if (gw)
      for (int64_t c = 0; c < a.channels; ++c) {
        double s = 0.0;
        for (int t = 0; t < nt; ++t)
          for (int64_t j = 0; j < a.inner; ++j) s += acc[t * period + c * a.inner + j];
        gw[c] = T(s);
      }
  }
}

}  // namespace

const char* act_name(Act kind) {
  const int i = static_cast<int>(kind);
  return i >= 0 && i < static_cast<int>(Act::count) ? kNames[i] : "unknown";
}

bool act_from_name(const char* name, Act* out) {
  for (int i = 0; i < static_cast<int>(Act::count); ++i)
    if (std::strcmp(name, kNames[i]) == 0) {
      *out = static_cast<Act>(i);
      return true;
    }
  return false;
}

ActInput act_backward_input(Act kind, double alpha) {
  switch (kind) {
    case Act::relu:
    case Act::relu6:
    case Act::hardtanh:
    case Act::selu:
      return ActInput::either;
    case Act::leaky_relu:
    case Act::elu:
      return alpha >= 0 ? ActInput::either : ActInput::x;
    case Act::sigmoid:
    case Act::tanh:
    case Act::hardsigmoid:
      return ActInput::y;
    default:
      return ActInput::x;
  }
}

void activation_forward(Act kind, const float* x, float* y, int64_t n, double alpha, double beta, int num_threads) {
  forward_impl(F32{}, kind, x, y, n, alpha, beta, num_threads);
}
void activation_forward(Act kind, const double* x, double* y, int64_t n, double alpha, double beta,
                        int num_threads) {
  forward_impl(F64{}, kind, x, y, n, alpha, beta, num_threads);
}
void activation_backward(Act kind, bool from_y, const float* v, const float* gy, float* gx, int64_t n, double alpha,
                         double beta, int num_threads) {
  backward_impl(F32{}, kind, from_y, v, gy, gx, n, alpha, beta, num_threads);
}
void activation_backward(Act kind, bool from_y, const double* v, const double* gy, double* gx, int64_t n,
                         double alpha, double beta, int num_threads) {
  backward_impl(F64{}, kind, from_y, v, gy, gx, n, alpha, beta, num_threads);
}

void prelu_forward(const PreluArgs<float>& a, float* y, int num_threads) {
  prelu_forward_impl(F32{}, a, y, num_threads);
}
void prelu_forward(const PreluArgs<double>& a, double* y, int num_threads) {
  prelu_forward_impl(F64{}, a, y, num_threads);
}
void prelu_backward(const PreluArgs<float>& a, const float* gy, float* gx, float* gw, int num_threads) {
  prelu_backward_impl(F32{}, a, gy, gx, gw, num_threads);
}
void prelu_backward(const PreluArgs<double>& a, const double* gy, double* gx, double* gw, int num_threads) {
  prelu_backward_impl(F64{}, a, gy, gx, gw, num_threads);
}

}  // namespace pyfastnn
