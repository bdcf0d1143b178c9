// pyfastnn._C.activation_forward / activation_backward / prelu_forward / prelu_backward.
//
// Arrays of any layout are accepted (non-contiguous ones are copied first); results are new
// C-contiguous arrays of the input's dtype (float32: SIMD kernels of the active ISA,
// float64: libm). Bad input raises TypeError/ValueError naming the op and the argument.
#include <string>
#include <vector>

#include "bindings/common.h"
#include "pyfastnn/activation.h"

namespace pyfastnn {
namespace bind {
namespace {

constexpr int64_t kReleaseGil = int64_t(1) << 14;  // below, the kernel is quicker than the GIL hand-off
constexpr int kNpyAligned = 0x0100;                // NPY_ARRAY_ALIGNED

std::string kinds_list() {
  std::string s;
  for (int i = 0; i < static_cast<int>(Act::count); ++i)
    s += (i ? ", '" : "'") + std::string(act_name(static_cast<Act>(i))) + "'";
  return s;
}

Act parse_kind(const py::handle& kind, const char* op) {
  if (!py::isinstance<py::str>(kind)) type_error(op, "kind", "a str (one of " + kinds_list() + ")", kind);
  const std::string name = kind.cast<std::string>();
  Act k;
  if (!act_from_name(name.c_str(), &k))
    value_error(op, "unknown activation kind '" + name + "'; expected one of " + kinds_list());
  return k;
}

enum class Dt { f32, f64 };

// The argument as a float32/float64 array (no conversion), C-contiguous and aligned (a copy
// if it was not), or a TypeError.
py::array float_array(const py::handle& obj, const std::string& op, const char* arg, Dt* dt) {
  if (!py::isinstance<py::array>(obj)) type_error(op, arg, "a float32 or float64 numpy array", obj);
  py::array arr = py::reinterpret_borrow<py::array>(obj);
  const py::dtype d = arr.dtype();
  if (d.is(py::dtype::of<float>()))
    *dt = Dt::f32;
  else if (d.is(py::dtype::of<double>()))
    *dt = Dt::f64;
  else
    type_error(op, arg, "a float32 or float64 numpy array", obj);
  const int need = py::array::c_style | kNpyAligned;
  if ((arr.flags() & need) != need) arr = py::array::ensure(arr, need);
  return arr;
}

// A second operand: same dtype and shape as the first.
py::array like(const py::handle& obj, const py::array& ref, Dt ref_dt, const std::string& op, const char* arg,
               const char* ref_name) {
  Dt dt;
  py::array arr = float_array(obj, op, arg, &dt);
  if (dt != ref_dt)
    type_error(op, arg,
               std::string("a ") + (ref_dt == Dt::f32 ? "float32" : "float64") + " numpy array (the dtype of '" +
                   ref_name + "')",
               obj);
  bool same = arr.ndim() == ref.ndim();
  for (py::ssize_t i = 0; same && i < arr.ndim(); ++i) same = arr.shape(i) == ref.shape(i);
  if (!same)
    value_error(op, std::string("argument '") + arg + "' must have the shape of '" + ref_name + "' " +
                        shape_str(ref) + ", got shape " + shape_str(arr));
  return arr;
}

py::array empty_like(const py::array& ref) {
  std::vector<py::ssize_t> shape(ref.shape(), ref.shape() + ref.ndim());
  return py::array(ref.dtype(), shape);
}

template <class T>
const T* cptr(const py::array& a) {
  return static_cast<const T*>(a.data());
}
template <class T>
T* mptr(py::array& a) {
  return static_cast<T*>(a.mutable_data());
}

py::array forward(const py::handle& kind_obj, const py::handle& x_obj, double alpha, double beta) {
  const Act kind = parse_kind(kind_obj, "activation_forward");
  const std::string op = act_name(kind);
  Dt dt;
  py::array x = float_array(x_obj, op, "x", &dt);
  py::array y = empty_like(x);
  const int64_t n = x.size();
  const int threads = num_threads();
  auto run = [&] {
    if (dt == Dt::f32)
      activation_forward(kind, cptr<float>(x), mptr<float>(y), n, alpha, beta, threads);
    else
      activation_forward(kind, cptr<double>(x), mptr<double>(y), n, alpha, beta, threads);
  };
  if (n >= kReleaseGil) {
    py::gil_scoped_release release;
    run();
  } else {
    run();
  }
  return y;
}

py::array backward(const py::handle& kind_obj, const py::handle& x_obj, const py::handle& y_obj,
                   const py::handle& gy_obj, double alpha, double beta) {
  const Act kind = parse_kind(kind_obj, "activation_backward");
  const std::string op = std::string(act_name(kind)) + " backward";
  Dt dt;
  py::array gy = float_array(gy_obj, op, "gy", &dt);
  const ActInput need = act_backward_input(kind, alpha);
  const bool has_x = !x_obj.is_none(), has_y = !y_obj.is_none();
  bool from_y;
  if (need == ActInput::x) {
    if (!has_x)
      value_error(op, std::string("needs the forward input 'x' (got None)") +
                          (kind == Act::leaky_relu || kind == Act::elu ? " when alpha < 0" : ""));
    from_y = false;
  } else if (need == ActInput::y) {
    if (!has_y) value_error(op, "needs the forward output 'y' (got None)");
    from_y = true;
  } else {
    if (!has_x && !has_y) value_error(op, "needs the forward output 'y' or input 'x' (both are None)");
    from_y = !has_x;  // x when given: the exact formula for elu/selu
  }
  py::array v = like(from_y ? y_obj : x_obj, gy, dt, op, from_y ? "y" : "x", "gy");
  py::array gx = empty_like(gy);
  const int64_t n = gy.size();
  const int threads = num_threads();
  auto run = [&] {
    if (dt == Dt::f32)
      activation_backward(kind, from_y, cptr<float>(v), cptr<float>(gy), mptr<float>(gx), n, alpha, beta, threads);
    else
      activation_backward(kind, from_y, cptr<double>(v), cptr<double>(gy), mptr<double>(gx), n, alpha, beta,
                          threads);
  };
  if (n >= kReleaseGil) {
    py::gil_scoped_release release;
    run();
  } else {
    run();
  }
  return gx;
}

// x seen as (outer, channels, inner): channels = x.shape[1] for ndim >= 2 when the weight has
// more than one entry; a single weight covers everything.
template <class T>
PreluArgs<T> prelu_args(const py::array& x, const py::array& w, const std::string& op) {
  if (w.ndim() > 1)
    value_error(op, "argument 'weight' must be 1-D (one slope per channel, or a single slope), got shape " +
                        shape_str(w));
  const int64_t nw = w.size();
  const int64_t channels = x.ndim() >= 2 ? x.shape(1) : 1;
  if (nw != 1 && nw != channels)
    value_error(op, "argument 'weight' has " + std::to_string(nw) + " entries; expected 1 or the number of channels "
                    "(dimension 1 of the input) " + std::to_string(channels) + ", for input of shape " +
                    shape_str(x));
  PreluArgs<T> a;
  a.x = cptr<T>(x);
  a.w = cptr<T>(w);
  const int64_t n = x.size();
  if (nw == 1) {
    a.outer = 1;
    a.channels = 1;
    a.inner = n;
  } else {
    a.outer = x.shape(0);
    a.channels = channels;
    a.inner = channels > 0 && a.outer > 0 ? n / (a.outer * channels) : 0;
  }
  return a;
}

py::array prelu_fwd(const py::handle& x_obj, const py::handle& w_obj) {
  const std::string op = "prelu";
  Dt dt;
  py::array x = float_array(x_obj, op, "x", &dt);
  Dt wdt;
  py::array w = float_array(w_obj, op, "weight", &wdt);
  if (wdt != dt) type_error(op, "weight", dt == Dt::f32 ? "a float32 numpy array (the dtype of 'x')"
                                                         : "a float64 numpy array (the dtype of 'x')", w_obj);
  py::array y = empty_like(x);
  const int threads = num_threads();
  auto run = [&] {
    if (dt == Dt::f32)
      prelu_forward(prelu_args<float>(x, w, op), mptr<float>(y), threads);
    else
      prelu_forward(prelu_args<double>(x, w, op), mptr<double>(y), threads);
  };
  if (dt == Dt::f32)
    (void)prelu_args<float>(x, w, op);  // validate before releasing the GIL
  else
    (void)prelu_args<double>(x, w, op);
  if (x.size() >= kReleaseGil) {
    py::gil_scoped_release release;
    run();
  } else {
    run();
  }
  return y;
}

py::tuple prelu_bwd(const py::handle& x_obj, const py::handle& w_obj, const py::handle& gy_obj, bool need_x,
                    bool need_weight) {
  const std::string op = "prelu backward";
  Dt dt;
  py::array x = float_array(x_obj, op, "x", &dt);
  Dt wdt;
  py::array w = float_array(w_obj, op, "weight", &wdt);
  if (wdt != dt) type_error(op, "weight", dt == Dt::f32 ? "a float32 numpy array (the dtype of 'x')"
                                                         : "a float64 numpy array (the dtype of 'x')", w_obj);
  py::array gy = like(gy_obj, x, dt, op, "gy", "x");
  if (dt == Dt::f32)
    (void)prelu_args<float>(x, w, op);
  else
    (void)prelu_args<double>(x, w, op);
  py::object gx_obj = py::none(), gw_obj = py::none();
  py::array gx, gw;
  if (need_x) {
    gx = empty_like(x);
    gx_obj = gx;
  }
  if (need_weight) {
    gw = empty_like(w);
    gw_obj = gw;
  }
  const int threads = num_threads();
  auto run = [&] {
    if (dt == Dt::f32)
      prelu_backward(prelu_args<float>(x, w, op), cptr<float>(gy), need_x ? mptr<float>(gx) : nullptr,
                     need_weight ? mptr<float>(gw) : nullptr, threads);
    else
      prelu_backward(prelu_args<double>(x, w, op), cptr<double>(gy), need_x ? mptr<double>(gx) : nullptr,
                     need_weight ? mptr<double>(gw) : nullptr, threads);
  };
  if (x.size() >= kReleaseGil) {
    py::gil_scoped_release release;
    run();
  } else {
    run();
  }
  return py::make_tuple(gx_obj, gw_obj);
}

}  // namespace
}  // namespace bind
}  // namespace pyfastnn

using namespace pyfastnn::bind;

PYFASTNN_BINDINGS(activation) {
  using namespace pybind11::literals;
  m.def("activation_forward", &forward, "kind"_a, "x"_a, "alpha"_a = 0.0, "beta"_a = 0.0,
        "y = f(x) for the activation `kind` (a name: see activation_kinds()), as a new array of x's dtype "
        "(float32 or float64). alpha, beta: the kind's parameters (leaky_relu: negative_slope; elu: alpha; "
        "hardtanh: min_val, max_val; softplus: beta, threshold).");
  m.def("activation_backward", &backward, "kind"_a, "x"_a, "y"_a, "gy"_a, "alpha"_a = 0.0, "beta"_a = 0.0,
        "gx = gy * f'(x) as a new array. x (the forward input) or y (the forward output) may be None where the "
        "kind does not need it: see activation_backward_input(kind, alpha).");
  m.def(
      "activation_backward_input",
      [](const py::handle& kind, double alpha) {
        switch (act_backward_input(parse_kind(kind, "activation_backward_input"), alpha)) {
          case pyfastnn::ActInput::x:
            return "x";
          case pyfastnn::ActInput::y:
            return "y";
          default:
            return "either";
        }
      },
      "kind"_a, "alpha"_a = 0.0, "What activation_backward reads: 'x', 'y' or 'either'.");
  m.def("activation_kinds", [] {
    py::list out;
    for (int i = 0; i < static_cast<int>(pyfastnn::Act::count); ++i)
      out.append(pyfastnn::act_name(static_cast<pyfastnn::Act>(i)));
    return out;
  });
  m.def("prelu_forward", &prelu_fwd, "x"_a, "weight"_a,
        "y = x > 0 ? x : weight[c] * x, c the channel (dimension 1 of x); a 1-element weight applies to all.");
  m.def("prelu_backward", &prelu_bwd, "x"_a, "weight"_a, "gy"_a, "need_x"_a = true, "need_weight"_a = true,
        "(gx, gweight): gx = x > 0 ? gy : weight[c] * gy, gweight[c] = sum of x * gy where x <= 0 (accumulated in "
        "double). Either is None when not asked for.");
}
