// pyfastnn._C recurrent layers: rnn_layer_forward / rnn_layer_backward (every direction of
// one layer over a whole sequence), the fused cells on their own, and the embedding lookup.
#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "bindings/common.h"
#include "pyfastnn/rnn.h"

namespace pyfastnn {
namespace bind {
namespace {

bool is_f64(const py::handle& obj) {
  return py::isinstance<py::array>(obj) && py::reinterpret_borrow<py::array>(obj).dtype().is(py::dtype::of<double>());
}
bool is_f32(const py::handle& obj) {
  return py::isinstance<py::array>(obj) && py::reinterpret_borrow<py::array>(obj).dtype().is(py::dtype::of<float>());
}

std::string shape_txt(std::initializer_list<int64_t> dims) {
  std::string s = "(";
  int i = 0;
  for (int64_t d : dims) s += (i++ ? ", " : "") + std::to_string(d);
  return s + (dims.size() == 1 ? ",)" : ")");
}

RnnMode parse_mode(const py::handle& obj, const char* op) {
  if (!py::isinstance<py::str>(obj)) type_error(op, "mode", "one of 'RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU'", obj);
  std::string m = py::str(obj);
  std::transform(m.begin(), m.end(), m.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (m == "RNN_TANH" || m == "TANH" || m == "RNN") return RnnMode::rnn_tanh;
  if (m == "RNN_RELU" || m == "RELU") return RnnMode::rnn_relu;
  if (m == "LSTM") return RnnMode::lstm;
  if (m == "GRU") return RnnMode::gru;
  value_error(op, "unknown mode '" + std::string(py::str(obj)) + "'; expected 'RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU'");
}

bool parse_relu(const py::handle& obj, const char* op) {
  if (obj.is_none()) return false;
  if (!py::isinstance<py::str>(obj)) type_error(op, "nonlinearity", "'tanh' or 'relu'", obj);
  const std::string s = py::str(obj);
  if (s == "tanh") return false;
  if (s == "relu") return true;
  value_error(op, "unknown nonlinearity '" + s + "'; expected 'tanh' or 'relu'");
}

// `obj` as a C-contiguous array of dtype T with exactly `shape`.
template <class T>
const T* exact(const py::handle& obj, std::initializer_list<int64_t> shape, const char* op, const char* arg,
               const char* what) {
  const std::string want = std::string(sizeof(T) == 4 ? "a float32" : "a float64") + " numpy array (the dtype of the input)";
  if (!py::isinstance<py::array>(obj)) type_error(op, arg, want, obj);
  py::array arr = py::reinterpret_borrow<py::array>(obj);
  if (!arr.dtype().is(py::dtype::of<T>())) type_error(op, arg, want, obj);
  bool ok = arr.ndim() == static_cast<py::ssize_t>(shape.size());
  int i = 0;
  for (int64_t d : shape)
    if (ok && arr.shape(i++) != d) ok = false;
  if (!ok)
    value_error(op, std::string("argument '") + arg + "' must have shape " + shape_txt(shape) + " " + what + ", got " +
                        shape_str(arr));
  if (!(arr.flags() & py::array::c_style))
    value_error(op, std::string("argument '") + arg + "' must be C-contiguous; pass numpy.ascontiguousarray(" + arg + ")");
  return static_cast<const T*>(arr.data());
}

template <class T>
const T* exact_or_null(const py::handle& obj, std::initializer_list<int64_t> shape, const char* op, const char* arg,
                       const char* what) {
  return obj.is_none() ? nullptr : exact<T>(obj, shape, op, arg, what);
}

template <class T>
MatrixArg weight_matrix(const py::handle& obj, const char* op, const std::string& arg) {
  const std::string want = std::string(sizeof(T) == 4 ? "a float32" : "a float64") + " numpy array (the dtype of the input)";
  if (!py::isinstance<py::array>(obj)) type_error(op, arg, want, obj);
  py::array arr = py::reinterpret_borrow<py::array>(obj);
  if (!arr.dtype().is(py::dtype::of<T>())) type_error(op, arg, want, obj);
  return matrix_arg(arr, 2, op, arg.c_str());
}

template <class T>
const T* bias_vec(const py::handle& obj, int64_t n, const char* op, const std::string& arg) {
  if (obj.is_none()) return nullptr;
  const std::string want = std::string(sizeof(T) == 4 ? "None or a float32" : "None or a float64") + " numpy array";
  if (!py::isinstance<py::array>(obj)) type_error(op, arg, want, obj);
  py::array arr = py::reinterpret_borrow<py::array>(obj);
  if (!arr.dtype().is(py::dtype::of<T>())) type_error(op, arg, want, obj);
  if (arr.ndim() != 1 || arr.shape(0) != n)
    value_error(op, "argument '" + arg + "' must have shape (" + std::to_string(n) + ",), got " + shape_str(arr));
  if (n > 1 && arr.strides(0) != static_cast<py::ssize_t>(sizeof(T)))
    value_error(op, "argument '" + arg + "' must be contiguous; pass numpy.ascontiguousarray(" + arg + ")");
  return static_cast<const T*>(arr.data());
}

// Parses mode, x, per-direction weights and lengths into `a`.
template <class T>
void layer_args(const char* op, const py::handle& mode_obj, const py::handle& x_obj, const py::handle& weights,
                const py::handle& lengths_obj, bool batch_first, RnnLayerArgs<T>& a) {
  a.mode = parse_mode(mode_obj, op);
  const int64_t G = rnn_gate_count(a.mode);
  if (!py::isinstance<py::array>(x_obj)) type_error(op, "x", "a float32 or float64 numpy array", x_obj);
  py::array x = py::reinterpret_borrow<py::array>(x_obj);
  if (x.ndim() != 3)
    value_error(op, std::string("argument 'x' must be 3-D ") + (batch_first ? "(batch, seq_len, input_size)" : "(seq_len, batch, input_size)") +
                        ", got shape " + shape_str(x));
  if (!(x.flags() & py::array::c_style)) value_error(op, "argument 'x' must be C-contiguous; pass numpy.ascontiguousarray(x)");
  a.batch_first = batch_first;
  a.steps = batch_first ? x.shape(1) : x.shape(0);
  a.batch = batch_first ? x.shape(0) : x.shape(1);
  a.input = x.shape(2);
  a.x = static_cast<const T*>(x.data());
  if (a.steps < 1) value_error(op, "expected a sequence length of at least 1, got " + std::to_string(a.steps));
  if (!py::isinstance<py::sequence>(weights) || py::isinstance<py::str>(weights))
    type_error(op, "weights", "a list of one or two tuples (w_ih, w_hh, b_ih, b_hh, w_hr), one per direction", weights);
  py::sequence ws = py::reinterpret_borrow<py::sequence>(weights);
  if (ws.size() != 1 && ws.size() != 2)
    value_error(op, "argument 'weights' must hold one or two directions, got " + std::to_string(ws.size()));
  a.dirs = static_cast<int>(ws.size());
  for (int d = 0; d < a.dirs; ++d) {
    py::object item = ws[d];
    if (!py::isinstance<py::sequence>(item) || py::len(item) != 5)
      type_error(op, "weights[" + std::to_string(d) + "]", "a tuple (w_ih, w_hh, b_ih, b_hh, w_hr)", item);
    py::sequence t = py::reinterpret_borrow<py::sequence>(item);
    const std::string sfx = d ? "_reverse" : "";
    const MatrixArg wih = weight_matrix<T>(t[0], op, "weight_ih" + sfx);
    if (wih.rows % G != 0 || wih.rows == 0)
      value_error(op, "argument 'weight_ih" + sfx + "' must have " + std::to_string(G) + " * hidden_size rows, got " +
                          std::to_string(wih.rows));
    const int64_t H = wih.rows / G;
    if (d == 0) a.hidden = H;
    if (H != a.hidden || wih.cols != a.input)
      value_error(op, "argument 'weight_ih" + sfx + "' must have shape " + shape_txt({G * a.hidden, a.input}) +
                          " to match the input size " + std::to_string(a.input) + ", got " +
                          shape_txt({wih.rows, wih.cols}));
    int64_t P = 0;
    const T* whr = nullptr;
    int64_t ldhr = 0;
    if (!py::object(t[4]).is_none()) {
      if (a.mode != RnnMode::lstm) value_error(op, "a projection (w_hr) exists only for LSTM");
      const MatrixArg m = weight_matrix<T>(t[4], op, "weight_hr" + sfx);
      if (m.cols != H || m.rows < 1 || m.rows >= H)
        value_error(op, "argument 'weight_hr" + sfx + "' must have shape (proj_size, " + std::to_string(H) +
                            ") with 0 < proj_size < hidden_size, got " + shape_txt({m.rows, m.cols}));
      P = m.rows;
      whr = static_cast<const T*>(m.data);
      ldhr = m.ld;
    }
    if (d == 0) a.proj = P;
    if (P != a.proj) value_error(op, "both directions must have the same proj_size");
    const int64_t Hout = P > 0 ? P : H;
    const MatrixArg whh = weight_matrix<T>(t[1], op, "weight_hh" + sfx);
    if (whh.rows != G * H || whh.cols != Hout)
      value_error(op, "argument 'weight_hh" + sfx + "' must have shape " + shape_txt({G * H, Hout}) + ", got " +
                          shape_txt({whh.rows, whh.cols}));
    RnnWeights<T>& w = a.w[d];
    w.w_ih = static_cast<const T*>(wih.data);
    w.ld_ih = wih.ld;
    w.w_hh = static_cast<const T*>(whh.data);
    w.ld_hh = whh.ld;
    w.b_ih = bias_vec<T>(t[2], G * H, op, "bias_ih" + sfx);
    w.b_hh = bias_vec<T>(t[3], G * H, op, "bias_hh" + sfx);
    w.w_hr = whr;
    w.ld_hr = ldhr;
  }
  if (!lengths_obj.is_none()) {
    const std::string want = "None or an int64 numpy array of shape (" + std::to_string(a.batch) + ",)";
    if (!py::isinstance<py::array>(lengths_obj)) type_error(op, "lengths", want, lengths_obj);
    py::array l = py::reinterpret_borrow<py::array>(lengths_obj);
    if (!l.dtype().is(py::dtype::of<int64_t>())) type_error(op, "lengths", want, lengths_obj);
    if (l.ndim() != 1 || l.shape(0) != a.batch || !(l.flags() & py::array::c_style))
      value_error(op, "argument 'lengths' must be a contiguous array of shape (" + std::to_string(a.batch) +
                          ",) (one length per sequence), got " + shape_str(l));
    const int64_t* lp = static_cast<const int64_t*>(l.data());
    for (int64_t b = 0; b < a.batch; ++b)
      if (lp[b] < 1 || lp[b] > a.steps)
        value_error(op, "lengths[" + std::to_string(b) + "] = " + std::to_string(lp[b]) +
                            " is outside [1, " + std::to_string(a.steps) + "] (the sequence length)");
    a.lengths = lp;
  }
}

template <class T>
py::array_t<T> new_array(std::initializer_list<py::ssize_t> shape) {
  return py::array_t<T>(std::vector<py::ssize_t>(shape));
}

template <class T>
py::object layer_forward(const py::handle& mode, const py::handle& x, const py::handle& weights,
                         const py::handle& h0_obj, const py::handle& c0_obj, const py::handle& lengths,
                         bool batch_first, bool training) {
  const char* op = "rnn_layer_forward";
  RnnLayerArgs<T> a;
  layer_args<T>(op, mode, x, weights, lengths, batch_first, a);
  const int64_t D = a.dirs, B = a.batch, H = a.hidden, P = a.proj, Hout = P > 0 ? P : H;
  const int64_t G = rnn_gate_count(a.mode), rows = a.steps * B;
  const bool lstm = a.mode == RnnMode::lstm;
  RnnForwardOut<T> o;
  o.h0 = exact_or_null<T>(h0_obj, {D, B, Hout}, op, "h0", "(num_directions, batch, hidden_size)");
  if (!c0_obj.is_none() && !lstm) value_error(op, "a cell state (c0) exists only for LSTM");
  o.c0 = exact_or_null<T>(c0_obj, {D, B, H}, op, "c0", "(num_directions, batch, hidden_size)");
  const py::ssize_t n1 = batch_first ? B : a.steps, n2 = batch_first ? a.steps : B;
  py::array_t<T> y = new_array<T>({n1, n2, D * Hout});
  py::array_t<T> hn = new_array<T>({D, B, Hout});
  py::object cn = py::none();
  o.y = y.mutable_data();
  o.hn = hn.mutable_data();
  if (lstm) {
    py::array_t<T> c = new_array<T>({D, B, H});
    o.cn = c.mutable_data();
    cn = std::move(c);
  }
  py::object saved = py::none();
  if (training) {
    py::list per_dir;
    for (int d = 0; d < D; ++d) {
      py::array_t<T> gates = new_array<T>({rows, G * H});
      py::array_t<T> hprev = new_array<T>({rows, Hout});
      py::object cprev = py::none(), ghn = py::none(), hraw = py::none();
      RnnSaved<T>& s = o.saved[d];
      s.gates = gates.mutable_data();
      s.hprev = hprev.mutable_data();
      if (lstm) {
        py::array_t<T> arr = new_array<T>({rows, H});
        s.cprev = arr.mutable_data();
        cprev = std::move(arr);
      }
      if (a.mode == RnnMode::gru) {
        py::array_t<T> arr = new_array<T>({rows, H});
        s.ghn = arr.mutable_data();
        ghn = std::move(arr);
      }
      if (P > 0) {
        py::array_t<T> arr = new_array<T>({rows, H});
        s.hraw = arr.mutable_data();
        hraw = std::move(arr);
      }
      per_dir.append(py::make_tuple(gates, hprev, cprev, ghn, hraw));
    }
    saved = std::move(per_dir);
  }
  const int threads = num_threads();
  {
    py::gil_scoped_release release;
    rnn_layer_forward(a, o, threads);
  }
  return py::make_tuple(y, hn, cn, saved);
}

template <class T>
T* saved_ptr(const py::handle& obj, std::initializer_list<int64_t> shape, const char* op, const char* arg) {
  return const_cast<T*>(exact<T>(obj, shape, op, arg, "(as rnn_layer_forward saved it)"));
}

template <class T>
py::object layer_backward(const py::handle& mode, const py::handle& x, const py::handle& weights,
                          const py::handle& saved_obj, const py::handle& lengths, bool batch_first,
                          const py::handle& dy_obj, const py::handle& dhn_obj, const py::handle& dcn_obj,
                          bool need_dx, bool need_dh0, bool need_dc0, bool need_weights) {
  const char* op = "rnn_layer_backward";
  RnnLayerArgs<T> a;
  layer_args<T>(op, mode, x, weights, lengths, batch_first, a);
  const int64_t D = a.dirs, B = a.batch, H = a.hidden, P = a.proj, Hout = P > 0 ? P : H, I = a.input;
  const int64_t G = rnn_gate_count(a.mode), rows = a.steps * B;
  const bool lstm = a.mode == RnnMode::lstm;
  RnnBackwardIO<T> io;
  if (!py::isinstance<py::sequence>(saved_obj) || py::len(saved_obj) != static_cast<size_t>(D))
    type_error(op, "saved", "the list rnn_layer_forward(training=True) returned", saved_obj);
  py::sequence saved = py::reinterpret_borrow<py::sequence>(saved_obj);
  for (int d = 0; d < D; ++d) {
    py::object item = saved[d];
    if (!py::isinstance<py::sequence>(item) || py::len(item) != 5)
      type_error(op, "saved", "the list rnn_layer_forward(training=True) returned", saved_obj);
    py::sequence t = py::reinterpret_borrow<py::sequence>(item);
    RnnSaved<T>& s = io.saved[d];
    s.gates = saved_ptr<T>(t[0], {rows, G * H}, op, "saved gates");
    s.hprev = saved_ptr<T>(t[1], {rows, Hout}, op, "saved hprev");
    if (lstm) s.cprev = saved_ptr<T>(t[2], {rows, H}, op, "saved cprev");
    if (a.mode == RnnMode::gru) s.ghn = saved_ptr<T>(t[3], {rows, H}, op, "saved ghn");
    if (P > 0) s.hraw = saved_ptr<T>(t[4], {rows, H}, op, "saved hraw");
  }
  const int64_t n1 = batch_first ? B : a.steps, n2 = batch_first ? a.steps : B;
  io.dy = exact_or_null<T>(dy_obj, {n1, n2, D * Hout}, op, "dy", "(the shape of the output)");
  io.dhn = exact_or_null<T>(dhn_obj, {D, B, Hout}, op, "dhn", "(the shape of h_n)");
  if (!dcn_obj.is_none() && !lstm) value_error(op, "a cell state gradient (dcn) exists only for LSTM");
  io.dcn = exact_or_null<T>(dcn_obj, {D, B, H}, op, "dcn", "(the shape of c_n)");
  py::object dx = py::none(), dh0 = py::none(), dc0 = py::none();
  if (need_dx) {
    py::array_t<T> arr = new_array<T>({n1, n2, I});
    io.dx = arr.mutable_data();
    dx = std::move(arr);
  }
  if (need_dh0) {
    py::array_t<T> arr = new_array<T>({D, B, Hout});
    io.dh0 = arr.mutable_data();
    dh0 = std::move(arr);
  }
  if (need_dc0 && lstm) {
    py::array_t<T> arr = new_array<T>({D, B, H});
    io.dc0 = arr.mutable_data();
    dc0 = std::move(arr);
  }
  py::list grads;
  for (int d = 0; d < D; ++d) {
    py::object gih = py::none(), ghh = py::none(), gbi = py::none(), gbh = py::none(), ghr = py::none();
    if (need_weights) {
      py::array_t<T> wih = new_array<T>({G * H, I});
      py::array_t<T> whh = new_array<T>({G * H, Hout});
      io.dw_ih[d] = wih.mutable_data();
      io.dw_hh[d] = whh.mutable_data();
      gih = std::move(wih);
      ghh = std::move(whh);
      if (a.w[d].b_ih) {
        py::array_t<T> arr = new_array<T>({G * H});
        io.db_ih[d] = arr.mutable_data();
        gbi = std::move(arr);
      }
      if (a.w[d].b_hh) {
        py::array_t<T> arr = new_array<T>({G * H});
        io.db_hh[d] = arr.mutable_data();
        gbh = std::move(arr);
      }
      if (P > 0) {
        py::array_t<T> arr = new_array<T>({P, H});
        io.dw_hr[d] = arr.mutable_data();
        ghr = std::move(arr);
      }
    }
    grads.append(py::make_tuple(gih, ghh, gbi, gbh, ghr));
  }
  const int threads = num_threads();
  {
    py::gil_scoped_release release;
    rnn_layer_backward(a, io, threads);
  }
  return py::make_tuple(dx, dh0, dc0, grads);
}

// ---- the cells on their own

template <class T>
MatrixArg dense(const py::handle& obj, int64_t rows, int64_t cols, const char* op, const char* arg) {
  exact<T>(obj, {rows, cols}, op, arg, "");
  py::array arr = py::reinterpret_borrow<py::array>(obj);
  MatrixArg m;
  m.data = const_cast<void*>(arr.data());
  m.rows = rows;
  m.cols = cols;
  m.ld = cols;
  return m;
}

template <class T>
std::pair<int64_t, int64_t> cell_dims(const py::handle& obj, int64_t gates, const char* op, const char* arg) {
  if (!py::isinstance<py::array>(obj)) type_error(op, arg, "a float32 or float64 numpy array", obj);
  py::array arr = py::reinterpret_borrow<py::array>(obj);
  if (arr.ndim() != 2 || arr.shape(1) % gates != 0)
    value_error(op, std::string("argument '") + arg + "' must be 2-D (batch, " + std::to_string(gates) +
                        " * hidden_size), got shape " + shape_str(arr));
  return {arr.shape(0), arr.shape(1) / gates};
}

template <class T>
const T* cdata(const py::handle& obj, int64_t rows, int64_t cols, const char* op, const char* arg) {
  return static_cast<const T*>(dense<T>(obj, rows, cols, op, arg).data);
}

template <class T>
py::object lstm_fwd(const py::handle& gx, const py::handle& gh, const py::handle& c) {
  const char* op = "lstm_cell_forward";
  auto [B, H] = cell_dims<T>(gx, 4, op, "gx");
  const T* gxp = cdata<T>(gx, B, 4 * H, op, "gx");
  const T* ghp = cdata<T>(gh, B, 4 * H, op, "gh");
  const T* cp = cdata<T>(c, B, H, op, "c");
  py::array_t<T> h = new_array<T>({B, H}), cn = new_array<T>({B, H}), act = new_array<T>({B, 4 * H});
  T *hp = h.mutable_data(), *cnp = cn.mutable_data(), *ap = act.mutable_data();
  {
    py::gil_scoped_release release;
    lstm_cell_forward(B, H, gxp, ghp, cp, hp, cnp, ap);
  }
  return py::make_tuple(h, cn, act);
}

template <class T>
py::object lstm_bwd(const py::handle& act, const py::handle& c, const py::handle& dh, const py::handle& dcn) {
  const char* op = "lstm_cell_backward";
  auto [B, H] = cell_dims<T>(act, 4, op, "act");
  const T* ap = cdata<T>(act, B, 4 * H, op, "act");
  const T* cp = cdata<T>(c, B, H, op, "c");
  const T* dhp = dh.is_none() ? nullptr : cdata<T>(dh, B, H, op, "dh");
  const T* dcp = dcn.is_none() ? nullptr : cdata<T>(dcn, B, H, op, "dc_new");
  py::array_t<T> dg = new_array<T>({B, 4 * H}), dc = new_array<T>({B, H});
  T *dgp = dg.mutable_data(), *dcq = dc.mutable_data();
  {
    py::gil_scoped_release release;
    lstm_cell_backward(B, H, ap, cp, dhp, dcp, dgp, dcq);
  }
  return py::make_tuple(dg, dc);
}

template <class T>
py::object gru_fwd(const py::handle& gx, const py::handle& gh, const py::handle& h) {
  const char* op = "gru_cell_forward";
  auto [B, H] = cell_dims<T>(gx, 3, op, "gx");
  const T* gxp = cdata<T>(gx, B, 3 * H, op, "gx");
  const T* ghp = cdata<T>(gh, B, 3 * H, op, "gh");
  const T* hp = cdata<T>(h, B, H, op, "h");
  py::array_t<T> hn = new_array<T>({B, H}), act = new_array<T>({B, 4 * H});
  T *hnp = hn.mutable_data(), *ap = act.mutable_data();
  {
    py::gil_scoped_release release;
    gru_cell_forward(B, H, gxp, ghp, hp, hnp, ap);
  }
  return py::make_tuple(hn, act);
}

template <class T>
py::object gru_bwd(const py::handle& act, const py::handle& h, const py::handle& dh) {
  const char* op = "gru_cell_backward";
  auto [B, H] = cell_dims<T>(act, 4, op, "act");
  const T* ap = cdata<T>(act, B, 4 * H, op, "act");
  const T* hp = cdata<T>(h, B, H, op, "h");
  const T* dhp = cdata<T>(dh, B, H, op, "dh_new");
  py::array_t<T> dgx = new_array<T>({B, 3 * H}), dgh = new_array<T>({B, 3 * H}), dhx = new_array<T>({B, H});
  T *dgxp = dgx.mutable_data(), *dghp = dgh.mutable_data(), *dhxp = dhx.mutable_data();
  {
    py::gil_scoped_release release;
    gru_cell_backward(B, H, ap, hp, dhp, dgxp, dghp, dhxp);
  }
  return py::make_tuple(dgx, dgh, dhx);
}

template <class T>
py::object rnn_fwd(const py::handle& gx, const py::handle& gh, const py::handle& nl) {
  const char* op = "rnn_cell_forward";
  const bool relu = parse_relu(nl, op);
  auto [B, H] = cell_dims<T>(gx, 1, op, "gx");
  const T* gxp = cdata<T>(gx, B, H, op, "gx");
  const T* ghp = cdata<T>(gh, B, H, op, "gh");
  py::array_t<T> h = new_array<T>({B, H});
  T* hp = h.mutable_data();
  {
    py::gil_scoped_release release;
    rnn_cell_forward(B, H, relu, gxp, ghp, hp);
  }
  return std::move(h);
}

template <class T>
py::object rnn_bwd(const py::handle& h, const py::handle& dh, const py::handle& nl) {
  const char* op = "rnn_cell_backward";
  const bool relu = parse_relu(nl, op);
  auto [B, H] = cell_dims<T>(h, 1, op, "h");
  const T* hp = cdata<T>(h, B, H, op, "h");
  const T* dhp = cdata<T>(dh, B, H, op, "dh");
  py::array_t<T> dp = new_array<T>({B, H});
  T* dpp = dp.mutable_data();
  {
    py::gil_scoped_release release;
    rnn_cell_backward(B, H, relu, hp, dhp, dpp);
  }
  return std::move(dp);
}

// ---- embedding

py::array int64_indices(const py::handle& obj, const char* op) {
  if (!py::isinstance<py::array>(obj) || !py::reinterpret_borrow<py::array>(obj).dtype().is(py::dtype::of<int64_t>()))
    type_error(op, "indices", "an int64 numpy array", obj);
  py::array idx = py::reinterpret_borrow<py::array>(obj);
  if (!(idx.flags() & py::array::c_style))
    value_error(op, "argument 'indices' must be C-contiguous; pass numpy.ascontiguousarray(indices)");
  return idx;
}

template <class T>
py::object emb_fwd(const py::handle& w_obj, const py::handle& idx_obj) {
  const char* op = "embedding_forward";
  const MatrixArg w = weight_matrix<T>(w_obj, op, "weight");
  py::array idx = int64_indices(idx_obj, op);
  const int64_t n = idx.size(), num = w.rows, dim = w.cols;
  const int64_t* ip = static_cast<const int64_t*>(idx.data());
  for (int64_t i = 0; i < n; ++i)
    if (ip[i] < 0 || ip[i] >= num)
      throw py::index_error(std::string(op) + ": index " + std::to_string(ip[i]) + " is out of range for an embedding of " +
                            std::to_string(num) + " rows (valid indices: 0 to " + std::to_string(num - 1) + ")");
  std::vector<py::ssize_t> shape(idx.shape(), idx.shape() + idx.ndim());
  shape.push_back(dim);
  py::array_t<T> out(shape);
  T* op_ = out.mutable_data();
  const T* wp = static_cast<const T*>(w.data);
  const int threads = num_threads();
  {
    py::gil_scoped_release release;
    embedding_forward(n, dim, ip, wp, w.ld, op_, threads);
  }
  return std::move(out);
}

template <class T>
py::object emb_bwd(const py::handle& idx_obj, const py::handle& g_obj, int64_t num, const py::handle& pad_obj) {
  const char* op = "embedding_backward";
  py::array idx = int64_indices(idx_obj, op);
  py::array g = py::reinterpret_borrow<py::array>(g_obj);
  if (g.ndim() != idx.ndim() + 1 || !std::equal(idx.shape(), idx.shape() + idx.ndim(), g.shape()))
    value_error(op, "argument 'grad' must have shape indices.shape + (embedding_dim,), got " + shape_str(g) +
                        " for indices of shape " + shape_str(idx));
  if (!(g.flags() & py::array::c_style)) value_error(op, "argument 'grad' must be C-contiguous");
  const int64_t n = idx.size(), dim = g.shape(g.ndim() - 1);
  const int64_t* ip = static_cast<const int64_t*>(idx.data());
  for (int64_t i = 0; i < n; ++i)
    if (ip[i] < 0 || ip[i] >= num)
      throw py::index_error(std::string(op) + ": index " + std::to_string(ip[i]) + " is out of range for " +
                            std::to_string(num) + " rows");
  int64_t pad = -1;
  if (!pad_obj.is_none()) {
    pad = pad_obj.cast<int64_t>();
    if (pad < 0) pad += num;
  }
  py::array_t<T> dw = new_array<T>({num, dim});
  T* dwp = dw.mutable_data();
  const T* gp = static_cast<const T*>(g.data());
  const int threads = num_threads();
  {
    py::gil_scoped_release release;
    embedding_backward(n, dim, num, ip, gp, pad, dwp, threads);
  }
  return std::move(dw);
}

}  // namespace
}  // namespace bind
}  // namespace pyfastnn

using namespace pyfastnn::bind;

PYFASTNN_BINDINGS(rnn) {
  using namespace pybind11::literals;
  m.def(
      "rnn_layer_forward",
      [](const py::object& mode, const py::object& x, const py::object& weights, const py::object& h0,
         const py::object& c0, const py::object& lengths, bool batch_first, bool training) {
        if (is_f64(x)) return layer_forward<double>(mode, x, weights, h0, c0, lengths, batch_first, training);
        if (is_f32(x)) return layer_forward<float>(mode, x, weights, h0, c0, lengths, batch_first, training);
        type_error("rnn_layer_forward", "x", "a float32 or float64 numpy array", x);
      },
      "mode"_a, "x"_a, "weights"_a, "h0"_a = py::none(), "c0"_a = py::none(), "lengths"_a = py::none(),
      "batch_first"_a = false, "training"_a = true,
      "One recurrent layer, every direction, over a whole sequence: (y, h_n, c_n, saved). mode 'RNN_TANH', "
      "'RNN_RELU', 'LSTM' or 'GRU'; x (T, B, I) (or (B, T, I) with batch_first), C-contiguous; weights a list of "
      "one or two (w_ih, w_hh, b_ih, b_hh, w_hr) tuples in PyTorch's shapes (biases and w_hr may be None); h0 "
      "(D, B, Hout), c0 (D, B, H) or None; lengths None or int64 (B,) in [1, T]. y has the layout of x with D * "
      "Hout features; c_n is None except for LSTM; saved (training only) is what rnn_layer_backward needs.");
  m.def(
      "rnn_layer_backward",
      [](const py::object& mode, const py::object& x, const py::object& weights, const py::object& saved,
         const py::object& lengths, bool batch_first, const py::object& dy, const py::object& dhn,
         const py::object& dcn, bool need_dx, bool need_dh0, bool need_dc0, bool need_weights) {
        if (is_f64(x))
          return layer_backward<double>(mode, x, weights, saved, lengths, batch_first, dy, dhn, dcn, need_dx, need_dh0,
                                        need_dc0, need_weights);
        if (is_f32(x))
          return layer_backward<float>(mode, x, weights, saved, lengths, batch_first, dy, dhn, dcn, need_dx, need_dh0,
                                       need_dc0, need_weights);
        type_error("rnn_layer_backward", "x", "a float32 or float64 numpy array", x);
      },
      "mode"_a, "x"_a, "weights"_a, "saved"_a, "lengths"_a = py::none(), "batch_first"_a = false, "dy"_a = py::none(),
      "dhn"_a = py::none(), "dcn"_a = py::none(), "need_dx"_a = true, "need_dh0"_a = true, "need_dc0"_a = true,
      "need_weights"_a = true,
      "Backward through time of rnn_layer_forward: (dx, dh0, dc0, [(dw_ih, dw_hh, db_ih, db_hh, dw_hr) per "
      "direction]); dy, dhn, dcn may be None (zero). Anything not asked for (or not existing) is None.");
  m.def(
      "lstm_cell_forward",
      [](const py::object& gx, const py::object& gh, const py::object& c) {
        if (is_f64(gx)) return lstm_fwd<double>(gx, gh, c);
        if (is_f32(gx)) return lstm_fwd<float>(gx, gh, c);
        type_error("lstm_cell_forward", "gx", "a float32 or float64 numpy array", gx);
      },
      "gx"_a, "gh"_a, "c"_a,
      "The fused LSTM cell: gates = gx + gh (B, 4H) in order i, f, g, o -> (h, c_new, act) with act the "
      "activated gates (B, 4H).");
  m.def(
      "lstm_cell_backward",
      [](const py::object& act, const py::object& c, const py::object& dh, const py::object& dc_new) {
        if (is_f64(act)) return lstm_bwd<double>(act, c, dh, dc_new);
        if (is_f32(act)) return lstm_bwd<float>(act, c, dh, dc_new);
        type_error("lstm_cell_backward", "act", "a float32 or float64 numpy array", act);
      },
      "act"_a, "c"_a, "dh"_a, "dc_new"_a = py::none(),
      "(dgates, dc): the gradients w.r.t. the gate pre-activations (B, 4H) and the previous cell state c.");
  m.def(
      "gru_cell_forward",
      [](const py::object& gx, const py::object& gh, const py::object& h) {
        if (is_f64(gx)) return gru_fwd<double>(gx, gh, h);
        if (is_f32(gx)) return gru_fwd<float>(gx, gh, h);
        type_error("gru_cell_forward", "gx", "a float32 or float64 numpy array", gx);
      },
      "gx"_a, "gh"_a, "h"_a,
      "The fused GRU cell (PyTorch's): gx = x W_ih^T + b_ih, gh = h W_hh^T + b_hh, each (B, 3H) in order r, z, n "
      "-> (h_new, act) with act (B, 4H) = r, z, n and gh's n part.");
  m.def(
      "gru_cell_backward",
      [](const py::object& act, const py::object& h, const py::object& dh_new) {
        if (is_f64(act)) return gru_bwd<double>(act, h, dh_new);
        if (is_f32(act)) return gru_bwd<float>(act, h, dh_new);
        type_error("gru_cell_backward", "act", "a float32 or float64 numpy array", act);
      },
      "act"_a, "h"_a, "dh_new"_a,
      "(dgx, dgh, dh): gradients w.r.t. gx, gh and the direct (z * h) path of h.");
  m.def(
      "rnn_cell_forward",
      [](const py::object& gx, const py::object& gh, const py::object& nl) {
        if (is_f64(gx)) return rnn_fwd<double>(gx, gh, nl);
        if (is_f32(gx)) return rnn_fwd<float>(gx, gh, nl);
        type_error("rnn_cell_forward", "gx", "a float32 or float64 numpy array", gx);
      },
      "gx"_a, "gh"_a, "nonlinearity"_a = "tanh", "h = tanh(gx + gh) or relu(gx + gh), (B, H).");
  m.def(
      "rnn_cell_backward",
      [](const py::object& h, const py::object& dh, const py::object& nl) {
        if (is_f64(h)) return rnn_bwd<double>(h, dh, nl);
        if (is_f32(h)) return rnn_bwd<float>(h, dh, nl);
        type_error("rnn_cell_backward", "h", "a float32 or float64 numpy array", h);
      },
      "h"_a, "dh"_a, "nonlinearity"_a = "tanh", "The gradient w.r.t. the pre-activation, from the cell's output h.");
  m.def(
      "embedding_forward",
      [](const py::object& weight, const py::object& indices) {
        if (is_f64(weight)) return emb_fwd<double>(weight, indices);
        if (is_f32(weight)) return emb_fwd<float>(weight, indices);
        type_error("embedding_forward", "weight", "a float32 or float64 numpy array", weight);
      },
      "weight"_a, "indices"_a,
      "weight[indices]: rows of weight (num, dim) gathered for int64 indices of any shape; an index outside "
      "[0, num) raises IndexError.");
  m.def(
      "embedding_backward",
      [](const py::object& indices, const py::object& grad, int64_t num, const py::object& padding_idx) {
        if (is_f64(grad)) return emb_bwd<double>(indices, grad, num, padding_idx);
        if (is_f32(grad)) return emb_bwd<float>(indices, grad, num, padding_idx);
        type_error("embedding_backward", "grad", "a float32 or float64 numpy array", grad);
      },
      "indices"_a, "grad"_a, "num_embeddings"_a, "padding_idx"_a = py::none(),
      "The dense weight gradient (num_embeddings, dim): grad rows added at their indices, none at padding_idx.");
}
