// Recurrent layers: fused LSTM / GRU / tanh-relu RNN cells and the whole-sequence layer loops.
//
// Gate layouts, formulas and weight shapes are PyTorch's:
//   RNN:  h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act tanh or relu       (G = 1 gate)
//   LSTM: [i f g o] = x W_ih^T + b_ih + h W_hh^T + b_hh; i, f, o sigmoid, g tanh (G = 4)
//         c' = f c + i g, h' = o tanh(c'), and with proj_size P: h' = (o tanh(c')) W_hr^T
//   GRU:  [r z n]: r = sigmoid(x W_ir + b_ir + h W_hr + b_hr), z likewise,
//         n = tanh(x W_in + b_in + r (h W_hn + b_hn)), h' = (1 - z) n + z h  (G = 3)
// W_ih is (G H) x I, W_hh is (G H) x Hout with Hout = P if P > 0 else H, W_hr is P x H.
//
// A layer call runs every direction of one layer over the whole sequence in C++: one GEMM
// projects all time steps' inputs at once (x W_ih^T plus the biases, in the GEMM's store),
// then each step multiplies the hidden state by W_hh (packed once per call, not per step)
// and runs the fused cell on the result, threads splitting the hidden units (each thread
// owns a slice of every gate, so its cell needs nothing another thread computed; one
// barrier per step). Backward through time mirrors it: per step the fused cell backward
// (which also sums the bias gradients) and one product with W_hh; the weight gradients come
// at the end from large GEMMs over all steps (dW_ih = dG^T X, dW_hh = dG^T H_prev,
// dX = dG W_ih). Two directions on two or more threads run side by side, each on its own
// share of the threads.
//
// Sequences: x is a contiguous (T, B, I) array, or (B, T, I) when batch_first; row (t, b)
// of the T*B x I matrix is t*B + b (b*T + t when batch_first). `lengths` (B values in
// [1, T], or null for all T) gives each sequence's valid prefix: later (padded) steps
// neither update the state nor produce output (their output is 0) nor receive gradient;
// the reverse direction of sequence b starts at step lengths[b] - 1. Padded input values
// must be finite (they meet zero gradients in dW_ih).
#pragma once
#include <cstdint>

namespace pyfastnn {

enum class RnnMode : int { rnn_tanh = 0, rnn_relu = 1, lstm = 2, gru = 3 };

inline int rnn_gate_count(RnnMode m) { return m == RnnMode::lstm ? 4 : m == RnnMode::gru ? 3 : 1; }

template <class T>
struct RnnWeights {  // one direction of one layer; leading dimensions in elements
  const T* w_ih = nullptr;  // (G H) x I
  int64_t ld_ih = 0;
  const T* w_hh = nullptr;  // (G H) x Hout
  int64_t ld_hh = 0;
  const T* b_ih = nullptr;  // G H values, or null (bias=False)
  const T* b_hh = nullptr;
  const T* w_hr = nullptr;  // P x H (LSTM with proj_size), or null
  int64_t ld_hr = 0;
};

// What forward keeps for backward, per direction (all rows in x's row order, contiguous):
// gates (T*B x G H): the activated gates [i f g o] / [r z n] / h
// hprev (T*B x Hout): the hidden state each step started from (0 on padded rows)
// cprev (T*B x H): LSTM, the cell state each step started from
// ghn   (T*B x H): GRU, h W_hn^T + b_hn (what r multiplied)
// hraw  (T*B x H): LSTM with projection, o tanh(c') before W_hr (0 on padded rows)
template <class T>
struct RnnSaved {
  T* gates = nullptr;
  T* hprev = nullptr;
  T* cprev = nullptr;
  T* ghn = nullptr;
  T* hraw = nullptr;
};

template <class T>
struct RnnLayerArgs {
  RnnMode mode = RnnMode::lstm;
  int64_t steps = 0, batch = 0, input = 0, hidden = 0, proj = 0;  // T, B, I, H, P (0: none)
  int dirs = 1;
  bool batch_first = false;
  const T* x = nullptr;              // T*B x I, contiguous
  RnnWeights<T> w[2];                // per direction
  const int64_t* lengths = nullptr;  // B values, or null
};

template <class T>
struct RnnForwardOut {
  T* y = nullptr;   // T*B x (dirs Hout), contiguous; direction d in columns [d Hout, (d+1) Hout)
  T* hn = nullptr;  // dirs x B x Hout
  T* cn = nullptr;  // dirs x B x H (LSTM; may be null)
  const T* h0 = nullptr;  // dirs x B x Hout, or null (zeros)
  const T* c0 = nullptr;  // dirs x B x H, or null (zeros)
  RnnSaved<T> saved[2];   // gates null: inference, nothing kept
};

template <class T>
struct RnnBackwardIO {
  const T* dy = nullptr;   // like y, or null (no gradient reached the output)
  const T* dhn = nullptr;  // like hn, or null
  const T* dcn = nullptr;  // like cn, or null
  RnnSaved<T> saved[2];    // what forward kept
  // results, each null when not wanted
  T* dx = nullptr;   // T*B x I
  T* dh0 = nullptr;  // dirs x B x Hout
  T* dc0 = nullptr;  // dirs x B x H
  T* dw_ih[2] = {nullptr, nullptr};
  T* dw_hh[2] = {nullptr, nullptr};
  T* db_ih[2] = {nullptr, nullptr};
  T* db_hh[2] = {nullptr, nullptr};
  T* dw_hr[2] = {nullptr, nullptr};
};

void rnn_layer_forward(const RnnLayerArgs<float>& a, const RnnForwardOut<float>& out, int num_threads);
void rnn_layer_forward(const RnnLayerArgs<double>& a, const RnnForwardOut<double>& out, int num_threads);
void rnn_layer_backward(const RnnLayerArgs<float>& a, const RnnBackwardIO<float>& io, int num_threads);
void rnn_layer_backward(const RnnLayerArgs<double>& a, const RnnBackwardIO<double>& io, int num_threads);

// ---- the fused cells on their own (B rows, contiguous arrays) ----
// gx = x W_ih^T + b_ih and gh = h W_hh^T + b_hh, each B x (G H).
// LSTM: writes h, c_new (B x H) and act (B x 4H: the activated i, f, g, o).
void lstm_cell_forward(int64_t batch, int64_t hidden, const float* gx, const float* gh, const float* c, float* h,
                       float* c_new, float* act);
void lstm_cell_forward(int64_t batch, int64_t hidden, const double* gx, const double* gh, const double* c, double* h,
                       double* c_new, double* act);
// Given dh, dc_new (either may be null: zero): dgates (B x 4H, w.r.t. the pre-activations,
// the same for gx and gh) and dc (B x H, w.r.t. c).
void lstm_cell_backward(int64_t batch, int64_t hidden, const float* act, const float* c, const float* dh,
                        const float* dc_new, float* dgates, float* dc);
void lstm_cell_backward(int64_t batch, int64_t hidden, const double* act, const double* c, const double* dh,
                        const double* dc_new, double* dgates, double* dc);
// GRU: writes h_new (B x H) and act (B x 4H: r, z, n, and gh's n part, which r multiplied).
void gru_cell_forward(int64_t batch, int64_t hidden, const float* gx, const float* gh, const float* h, float* h_new,
                      float* act);
void gru_cell_forward(int64_t batch, int64_t hidden, const double* gx, const double* gh, const double* h,
                      double* h_new, double* act);
// dgx, dgh (B x 3H, w.r.t. gx and gh) and dh (B x H, w.r.t. h: only the direct z h path).
void gru_cell_backward(int64_t batch, int64_t hidden, const float* act, const float* h, const float* dh_new,
                       float* dgx, float* dgh, float* dh);
void gru_cell_backward(int64_t batch, int64_t hidden, const double* act, const double* h, const double* dh_new,
                       double* dgx, double* dgh, double* dh);
// RNN: h = act(gx + gh) (relu: max(., 0)), B x H; backward: dpre = dh * act'(from h).
void rnn_cell_forward(int64_t batch, int64_t hidden, bool relu, const float* gx, const float* gh, float* h);
void rnn_cell_forward(int64_t batch, int64_t hidden, bool relu, const double* gx, const double* gh, double* h);
void rnn_cell_backward(int64_t batch, int64_t hidden, bool relu, const float* h, const float* dh, float* dpre);
void rnn_cell_backward(int64_t batch, int64_t hidden, bool relu, const double* h, const double* dh, double* dpre);

// ---- embedding ----
// out[i] = weight[idx[i]] (n rows of dim values); every index must be in [0, num) (the
// caller checks). Backward: dweight (num x dim, zeroed here) += grad rows at their indices,
// skipping padding_idx (-1: none); deterministic for any thread count.
void embedding_forward(int64_t n, int64_t dim, const int64_t* idx, const float* weight, int64_t ldw, float* out,
                       int num_threads);
void embedding_forward(int64_t n, int64_t dim, const int64_t* idx, const double* weight, int64_t ldw, double* out,
                       int num_threads);
void embedding_backward(int64_t n, int64_t dim, int64_t num, const int64_t* idx, const float* grad,
                        int64_t padding_idx, float* dweight, int num_threads);
void embedding_backward(int64_t n, int64_t dim, int64_t num, const int64_t* idx, const double* grad,
                        int64_t padding_idx, double* dweight, int num_threads);

}  // namespace pyfastnn
