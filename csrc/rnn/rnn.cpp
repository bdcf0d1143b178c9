// Recurrent layers: the input-projection and weight-gradient GEMMs, buffers, the thread
// teams that run the per-ISA time loops (rnn_impl.h), and the pointwise cell entry points.
#include "pyfastnn/rnn.h"

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "pyfastnn/gemm.h"
#include "pyfastnn/isa.h"
#include "pyfastnn/workspace.h"
#include "rnn/rnn_impl.h"

namespace pyfastnn {
namespace {

const RnnKernelTable& table() { return PYFASTNN_ISA_SELECT(rnn_kernels); }
const RnnLoopFns<float>& fns(float*) { return table().f32; }
const RnnLoopFns<double>& fns(double*) { return table().f64; }

template <class T>
RnnDirPlan<T> base_plan(const RnnLayerArgs<T>& a, int d) {
  RnnDirPlan<T> p;
  p.mode = static_cast<int>(a.mode);
  p.steps = a.steps;
  p.batch = a.batch;
  p.hidden = a.hidden;
  p.proj = a.proj;
  p.out = a.proj > 0 ? a.proj : a.hidden;
  p.batch_first = a.batch_first;
  p.reverse = d == 1;
  p.lengths = a.lengths;
  p.w_hh = a.w[d].w_hh;
  p.ld_hh = a.w[d].ld_hh;
  p.w_hr = a.w[d].w_hr;
  p.ld_hr = a.w[d].ld_hr;
  p.ldy = a.dirs * p.out;
  return p;
}

// Runs the time loops of every direction: two directions on two or more threads as two
// teams side by side (each thread of a team on its own cache), otherwise one after the
// other with all the threads a direction can use.
template <class T>
void run_loops(std::vector<RnnDirPlan<T>>& plans, bool backward, int num_threads) {
  const RnnLoopFns<T>& f = fns(static_cast<T*>(nullptr));
  const int dirs = static_cast<int>(plans.size());
  // (a small layer runs both directions on the calling thread: starting a second thread
  // would cost more than the loop)
  const RnnDirPlan<T>& p0 = plans[0];
  const double loop_flops = 2.0 * double(p0.steps) * double(p0.batch) *
                            (double(p0.out) * rnn_gate_count(static_cast<RnnMode>(p0.mode)) * double(p0.hidden) +
                             double(p0.hidden) * double(p0.proj));
  const bool side_by_side = dirs == 2 && num_threads >= 2 && loop_flops >= 1e6;
  const int share = side_by_side ? num_threads / 2 : num_threads;
  std::vector<int> team(dirs);
  std::vector<std::unique_ptr<T, FreeDeleter>> scratch;
  for (int d = 0; d < dirs; ++d) {
    team[d] = std::max(1, std::min(share, f.max_threads(plans[d])));
    const int64_t n = backward ? f.scratch_backward(plans[d], team[d]) : f.scratch_forward(plans[d], team[d]);
    scratch.push_back(alloc_array<T>(n));
    plans[d].scratch = scratch.back().get();
  }
  auto run = [&](int d, int tid, RnnBarrier& bar) {
    if (backward)
      f.backward(plans[d], tid, team[d], bar);
    else
      f.forward(plans[d], tid, team[d], bar);
  };
  if (side_by_side) {
    RnnBarrier bars[2] = {RnnBarrier(team[0]), RnnBarrier(team[1])};
    const int total = team[0] + team[1];
#pragma omp parallel num_threads(total)
    {
      const int tid = omp_get_thread_num();
      if (omp_get_num_threads() == total) {
        if (tid < team[0])
          run(0, tid, bars[0]);
        else
          run(1, tid - team[0], bars[1]);
      } else if (tid == 0) {  // the runtime gave fewer threads: one team at a time, one thread
        for (int d = 0; d < 2; ++d) {
          const int keep = team[d];
          team[d] = 1;
          RnnBarrier one(1);
          run(d, 0, one);
          team[d] = keep;
        }
      }
    }
    return;
  }
  for (int d = 0; d < dirs; ++d) {
    if (team[d] == 1) {
      RnnBarrier one(1);
      run(d, 0, one);
      continue;
    }
    RnnBarrier bar(team[d]);
    int got = team[d];
#pragma omp parallel num_threads(team[d])
    {
#pragma omp single
      got = omp_get_num_threads();
      if (got == team[d]) run(d, omp_get_thread_num(), bar);
    }
    if (got != team[d]) {  // fewer threads than asked for (nested region, limits): one thread
      team[d] = 1;
      RnnBarrier one(1);
      run(d, 0, one);
    }
  }
}

// The biases of the input projection: b_ih + b_hh for RNN/LSTM; for GRU the r and z parts
// of both, and b_in alone (b_hn is applied inside r * (.)). Null when there are none.
template <class T>
std::unique_ptr<T, FreeDeleter> projection_bias(const RnnLayerArgs<T>& a, int d) {
  const RnnWeights<T>& w = a.w[d];
  if (!w.b_ih && !w.b_hh) return nullptr;
  const int64_t G = rnn_gate_count(a.mode), H = a.hidden;
  auto out = alloc_array<T>(G * H);
  T* b = out.get();
  for (int64_t j = 0; j < G * H; ++j) {
    const bool hidden_part = a.mode != RnnMode::gru || j < 2 * H;
    b[j] = (w.b_ih ? w.b_ih[j] : T(0)) + (hidden_part && w.b_hh ? w.b_hh[j] : T(0));
  }
  return out;
}

template <class T>
void forward_impl(const RnnLayerArgs<T>& a, const RnnForwardOut<T>& o, int num_threads) {
  const int64_t G = rnn_gate_count(a.mode), H = a.hidden, GH = G * H, rows = a.steps * a.batch;
  const int64_t Hout = a.proj > 0 ? a.proj : H;
  if (a.batch <= 0) return;
  std::vector<std::unique_ptr<T, FreeDeleter>> keep;
  std::vector<RnnDirPlan<T>> plans;
  for (int d = 0; d < a.dirs; ++d) {
    RnnDirPlan<T> p = base_plan(a, d);
    T* gates = o.saved[d].gates;
    if (!gates) {
      keep.push_back(alloc_array<T>(rows * GH));
      gates = keep.back().get();
    }
    auto bias = projection_bias(a, d);
    GemmArgs<T> g;  // all steps' input projections at once: x W_ih^T + biases
    g.trans_b = true;
    g.m = rows;
    g.n = GH;
    g.k = a.input;
    g.a = a.x;
    g.lda = a.input;
    g.b = a.w[d].w_ih;
    g.ldb = a.w[d].ld_ih;
    g.c = gates;
    g.ldc = GH;
    g.bias = bias.get();
    gemm(g, num_threads);
    if (a.mode == RnnMode::gru && a.w[d].b_hh) p.b_hn = a.w[d].b_hh + 2 * H;
    p.gates = gates;
    p.h0 = o.h0 ? o.h0 + d * a.batch * Hout : nullptr;
    p.c0 = o.c0 ? o.c0 + d * a.batch * H : nullptr;
    p.y = o.y + d * Hout;
    p.hn = o.hn ? o.hn + d * a.batch * Hout : nullptr;
    p.cn = o.cn ? o.cn + d * a.batch * H : nullptr;
    p.save = o.saved[d].gates != nullptr;
    p.hprev = o.saved[d].hprev;
    p.cprev = o.saved[d].cprev;
    p.ghn = o.saved[d].ghn;
    p.hraw = o.saved[d].hraw;
    plans.push_back(p);
  }
  run_loops(plans, false, num_threads);
}

// dw (m x n) = dy^T x summed over all rows: dy is rows x m and x rows x n, both dense.
template <class T>
void weight_grad(int64_t m, int64_t n, int64_t rows, const T* dy, const T* x, T* dw, int num_threads) {
  GemmArgs<T> g;
  g.trans_a = true;
  g.m = m;
  g.n = n;
  g.k = rows;
  g.a = dy;
  g.lda = m;
  g.b = x;
  g.ldb = n;
  g.c = dw;
  g.ldc = n;
  gemm(g, num_threads);
}

template <class T>
void backward_impl(const RnnLayerArgs<T>& a, const RnnBackwardIO<T>& io, int num_threads) {
  const int64_t G = rnn_gate_count(a.mode), H = a.hidden, GH = G * H, P = a.proj, rows = a.steps * a.batch;
  const int64_t Hout = P > 0 ? P : H;
  if (a.batch <= 0) {
    if (io.dx) std::memset(io.dx, 0, sizeof(T) * rows * a.input);
    for (int d = 0; d < a.dirs; ++d) {
      T* zero[] = {io.dw_ih[d], io.dw_hh[d], io.db_ih[d], io.db_hh[d], io.dw_hr[d]};
      const int64_t size[] = {GH * a.input, GH * Hout, GH, GH, P * H};
      for (int i = 0; i < 5; ++i)
        if (zero[i]) std::memset(zero[i], 0, sizeof(T) * size[i]);
    }
    return;
  }
  std::vector<std::unique_ptr<T, FreeDeleter>> keep;
  std::vector<RnnDirPlan<T>> plans;
  for (int d = 0; d < a.dirs; ++d) {
    RnnDirPlan<T> p = base_plan(a, d);
    const RnnSaved<T>& s = io.saved[d];
    p.gates = s.gates;
    p.hprev = s.hprev;
    p.cprev = s.cprev;
    p.ghn = s.ghn;
    p.hraw = s.hraw;
    p.dy = io.dy ? io.dy + d * Hout : nullptr;
    p.dhn = io.dhn ? io.dhn + d * a.batch * Hout : nullptr;
    p.dcn = io.dcn ? io.dcn + d * a.batch * H : nullptr;
    p.dh0 = io.dh0 ? io.dh0 + d * a.batch * Hout : nullptr;
    p.dc0 = io.dc0 ? io.dc0 + d * a.batch * H : nullptr;
    keep.push_back(alloc_array<T>(rows * GH));
    p.dg = keep.back().get();
    if (a.mode == RnnMode::gru) {
      keep.push_back(alloc_array<T>(rows * GH));
      p.dgh = keep.back().get();
    } else {
      p.dgh = p.dg;
    }
    if (P > 0) {
      keep.push_back(alloc_array<T>(rows * P));
      p.dhout = keep.back().get();
    }
    // bias gradients come out of the loops (GRU: the input and hidden parts differ; the
    // others get db_hh as a copy of db_ih below)
    if (a.mode == RnnMode::gru) {
      p.db_ih = io.db_ih[d];
      p.db_hh = io.db_hh[d];
    } else {
      p.db_ih = io.db_ih[d] ? io.db_ih[d] : io.db_hh[d];
    }
    plans.push_back(p);
  }
  run_loops(plans, true, num_threads);

  // the weight and input gradients: large GEMMs over all steps at once
  for (int d = 0; d < a.dirs; ++d) {
    const RnnDirPlan<T>& p = plans[d];
    if (a.mode != RnnMode::gru && io.db_ih[d] && io.db_hh[d]) std::memcpy(io.db_hh[d], io.db_ih[d], sizeof(T) * GH);
    if (io.dw_ih[d]) weight_grad(GH, a.input, rows, p.dg, a.x, io.dw_ih[d], num_threads);            // dG^T X
    if (io.dw_hh[d]) weight_grad(GH, Hout, rows, p.dgh, p.hprev, io.dw_hh[d], num_threads);           // dGh^T H_prev
    if (io.dw_hr[d] && P > 0) weight_grad(P, H, rows, p.dhout, p.hraw, io.dw_hr[d], num_threads);  // dOut^T H_raw
    if (io.dx) {  // dX = sum over directions of dG W_ih
      GemmArgs<T> g;
      g.m = rows;
      g.n = a.input;
      g.k = GH;
      g.a = p.dg;
      g.lda = GH;
      g.b = a.w[d].w_ih;
      g.ldb = a.w[d].ld_ih;
      g.c = io.dx;
      g.ldc = a.input;
      g.beta = d == 0 ? T(0) : T(1);
      gemm(g, num_threads);
    }
  }
}

template <class T>
void embedding_forward_impl(int64_t n, int64_t dim, const int64_t* idx, const T* w, int64_t ldw, T* out,
                            int num_threads) {
  const int threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(num_threads, n * dim / (1 << 15))));
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
  for (int64_t i = 0; i < n; ++i) std::memcpy(out + i * dim, w + idx[i] * ldw, sizeof(T) * dim);
}

// Rows split by destination row (a thread owns rows of dweight): no two threads add into
// the same row, and each row's sum runs in index order, so results never depend on the
// thread count.
template <class T>
void embedding_backward_impl(int64_t n, int64_t dim, int64_t num, const int64_t* idx, const T* grad,
                             int64_t padding_idx, T* dw, int num_threads) {
  std::memset(dw, 0, sizeof(T) * num * dim);
  const int threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(num_threads, n * dim / (1 << 16))));
  if (threads <= 1) {
    for (int64_t i = 0; i < n; ++i) {
      const int64_t r = idx[i];
      if (r == padding_idx) continue;
      T* dst = dw + r * dim;
      const T* src = grad + i * dim;
#pragma omp simd
      for (int64_t j = 0; j < dim; ++j) dst[j] += src[j];
    }
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t r0 = num * t / nt, r1 = num * (t + 1) / nt;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t r = idx[i];
      if (r < r0 || r >= r1 || r == padding_idx) continue;
      T* dst = dw + r * dim;
      const T* src = grad + i * dim;
#pragma omp simd
      for (int64_t j = 0; j < dim; ++j) dst[j] += src[j];
    }
  }
}

}  // namespace

void rnn_layer_forward(const RnnLayerArgs<float>& a, const RnnForwardOut<float>& out, int num_threads) {
  forward_impl(a, out, num_threads);
}
void rnn_layer_forward(const RnnLayerArgs<double>& a, const RnnForwardOut<double>& out, int num_threads) {
  forward_impl(a, out, num_threads);
}
void rnn_layer_backward(const RnnLayerArgs<float>& a, const RnnBackwardIO<float>& io, int num_threads) {
  backward_impl(a, io, num_threads);
}
void rnn_layer_backward(const RnnLayerArgs<double>& a, const RnnBackwardIO<double>& io, int num_threads) {
  backward_impl(a, io, num_threads);
}

#define PYFASTNN_RNN_CELLS(T)                                                                                     \
  void lstm_cell_forward(int64_t batch, int64_t hidden, const T* gx, const T* gh, const T* c, T* h, T* c_new,     \
                         T* act) {                                                                                \
    fns(static_cast<T*>(nullptr)).lstm_fwd(batch, hidden, gx, gh, c, h, c_new, act);                             \
  }                                                                                                               \
  void lstm_cell_backward(int64_t batch, int64_t hidden, const T* act, const T* c, const T* dh, const T* dc_new,  \
                          T* dgates, T* dc) {                                                                     \
    std::vector<T> zero;                                                                                          \
    if (!dh) {                                                                                                    \
      zero.assign(static_cast<std::size_t>(batch * hidden), T(0));                                                \
      dh = zero.data();                                                                                           \
    }                                                                                                             \
    fns(static_cast<T*>(nullptr)).lstm_bwd(batch, hidden, act, c, dh, dc_new, dgates, dc);                       \
  }                                                                                                               \
  void gru_cell_forward(int64_t batch, int64_t hidden, const T* gx, const T* gh, const T* h, T* h_new, T* act) {  \
    fns(static_cast<T*>(nullptr)).gru_fwd(batch, hidden, gx, gh, h, h_new, act);                                 \
  }                                                                                                               \
  void gru_cell_backward(int64_t batch, int64_t hidden, const T* act, const T* h, const T* dh_new, T* dgx,        \
                         T* dgh, T* dh) {                                                                         \
    fns(static_cast<T*>(nullptr)).gru_bwd(batch, hidden, act, h, dh_new, dgx, dgh, dh);                          \
  }                                                                                                               \
  void rnn_cell_forward(int64_t batch, int64_t hidden, bool relu, const T* gx, const T* gh, T* h) {               \
    fns(static_cast<T*>(nullptr)).rnn_fwd(batch, hidden, relu, gx, gh, h);                                        \
  }                                                                                                               \
  void rnn_cell_backward(int64_t batch, int64_t hidden, bool relu, const T* h, const T* dh, T* dpre) {            \
    fns(static_cast<T*>(nullptr)).rnn_bwd(batch, hidden, relu, h, dh, dpre);                                      \
  }                                                                                                               \
  void embedding_forward(int64_t n, int64_t dim, const int64_t* idx, const T* weight, int64_t ldw, T* out,        \
                         int num_threads) {                                                                       \
    embedding_forward_impl(n, dim, idx, weight, ldw, out, num_threads);                                           \
  }                                                                                                               \
  void embedding_backward(int64_t n, int64_t dim, int64_t num, const int64_t* idx, const T* grad,                 \
                          int64_t padding_idx, T* dweight, int num_threads) {                                     \
    embedding_backward_impl(n, dim, num, idx, grad, padding_idx, dweight, num_threads);                           \
  }

PYFASTNN_RNN_CELLS(float)
PYFASTNN_RNN_CELLS(double)
#undef PYFASTNN_RNN_CELLS

}  // namespace pyfastnn
