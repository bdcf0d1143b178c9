// pyfastnn._C.{sgd,adam,rmsprop,adagrad,adadelta}_step: fused multi-tensor updates of lists
// of numpy arrays, in place (signatures as in pyfastnn/backends/reference/optim.py).
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "bindings/common.h"
#include "pyfastnn/optim.h"

namespace pyfastnn {
namespace bind {
namespace {

// A list argument: None (-> empty) or a list/tuple of arrays, one per parameter.
std::vector<py::handle> items(const py::object& obj, const char* op, const char* arg, size_t n, bool required) {
  std::vector<py::handle> out;
  if (obj.is_none()) {
    if (required) value_error(op, std::string("argument '") + arg + "' must be a list of arrays, got None");
    return out;
  }
  if (!py::isinstance<py::list>(obj) && !py::isinstance<py::tuple>(obj))
    type_error(op, arg, "a list of arrays", obj);
  for (auto h : obj) out.push_back(h);
  if (n != size_t(-1) && out.size() != n)
    value_error(op, std::string("argument '") + arg + "' has " + std::to_string(out.size()) + " entries for " +
                        std::to_string(n) + " parameters");
  return out;
}

template <class T>
T* pointer(py::handle h, const char* op, const char* arg, size_t i, int64_t n, bool writable) {
  const std::string name = std::string(arg) + "[" + std::to_string(i) + "]";
  py::array a = as_array<T>(h, op, name.c_str());
  if (!(a.flags() & py::array::c_style)) value_error(op, "argument '" + name + "' must be C-contiguous");
  if (writable && !a.writeable()) value_error(op, "argument '" + name + "' is read-only");
  if (n >= 0 && a.size() != n)
    value_error(op, "argument '" + name + "' has " + std::to_string(a.size()) + " elements, its parameter has " +
                        std::to_string(n));
  return static_cast<T*>(const_cast<void*>(a.data()));
}

struct Lists {
  py::object params, grads, s0, s1, s2;
  const char* names[5];
  bool needed[3];
};

template <class T>
void step_typed(const char* op, OptimKind kind, const Lists& l, const std::vector<double>& steps,
                const std::vector<bool>& first, const OptimHyper& h) {
  auto ps = items(l.params, op, l.names[0], size_t(-1), true);
  const size_t n = ps.size();
  auto gs = items(l.grads, op, l.names[1], n, true);
  std::vector<py::handle> st[3] = {items(l.s0, op, l.names[2], n, l.needed[0]),
                                   items(l.s1, op, l.names[3], n, l.needed[1]),
                                   items(l.s2, op, l.names[4], n, l.needed[2])};
  std::vector<OptimTensor<T>> ts(n);
  for (size_t i = 0; i < n; ++i) {
    OptimTensor<T>& t = ts[i];
    t.param = pointer<T>(ps[i], op, l.names[0], i, -1, true);
    t.n = static_cast<int64_t>(py::reinterpret_borrow<py::array>(ps[i]).size());
    t.grad = pointer<T>(gs[i], op, l.names[1], i, t.n, false);
    T** slots[3] = {&t.s0, &t.s1, &t.s2};
    for (int k = 0; k < 3; ++k)
      if (!st[k].empty()) *slots[k] = pointer<T>(st[k][i], op, l.names[2 + k], i, t.n, true);
    t.step = steps.empty() ? 0 : steps[i];
    t.first = first.empty() ? false : bool(first[i]);
  }
  if (!steps.empty() && steps.size() != n) value_error(op, "argument 'steps' must have one entry per parameter");
  if (!first.empty() && first.size() != n) value_error(op, "argument 'first' must have one entry per parameter");
  const int threads = num_threads();
  py::gil_scoped_release release;
  optim_step<T>(kind, ts, h, threads);
}

void step(const char* op, OptimKind kind, const Lists& l, const std::vector<double>& steps,
          const std::vector<bool>& first, const OptimHyper& h) {
  py::handle p0;
  for (auto h0 : l.params) {
    p0 = h0;
    break;
  }
  if (p0 && py::isinstance<py::array>(p0) && py::reinterpret_borrow<py::array>(p0).dtype().is(py::dtype::of<double>()))
    step_typed<double>(op, kind, l, steps, first, h);
  else
    step_typed<float>(op, kind, l, steps, first, h);
}

void check_lr(const char* op, double lr) {
  if (!(lr >= 0)) value_error(op, "argument 'lr' must be >= 0, got " + std::to_string(lr));
}

}  // namespace
}  // namespace bind
}  // namespace pyfastnn

using namespace pyfastnn;
using namespace pyfastnn::bind;

PYFASTNN_BINDINGS(optim) {
  m.def("sgd_step", [](py::object params, py::object grads, py::object bufs, std::vector<bool> first, double lr,
                       double momentum, double dampening, bool nesterov, double weight_decay, bool maximize) {
    check_lr("sgd_step", lr);
    OptimHyper h;
    h.lr = lr, h.momentum = momentum, h.dampening = dampening, h.nesterov = nesterov;
    h.weight_decay = weight_decay, h.maximize = maximize;
    Lists l{params, grads, momentum != 0 ? bufs : py::none(), py::none(), py::none(),
            {"params", "grads", "bufs", "", ""}, {momentum != 0, false, false}};
    step("sgd_step", OptimKind::sgd, l, {}, momentum != 0 ? first : std::vector<bool>{}, h);
  });
  m.def("adam_step", [](py::object params, py::object grads, py::object exp_avgs, py::object exp_avg_sqs,
                        py::object max_exp_avg_sqs, std::vector<double> steps, double lr, double beta1, double beta2,
                        double eps, double weight_decay, bool amsgrad, bool maximize, bool decoupled) {
    check_lr("adam_step", lr);
    OptimHyper h;
    h.lr = lr, h.beta1 = beta1, h.beta2 = beta2, h.eps = eps, h.weight_decay = weight_decay;
    h.amsgrad = amsgrad, h.maximize = maximize, h.decoupled = decoupled;
    Lists l{params, grads, exp_avgs, exp_avg_sqs, amsgrad ? max_exp_avg_sqs : py::none(),
            {"params", "grads", "exp_avgs", "exp_avg_sqs", "max_exp_avg_sqs"}, {true, true, amsgrad}};
    step("adam_step", OptimKind::adam, l, steps, {}, h);
  });
  m.def("rmsprop_step", [](py::object params, py::object grads, py::object square_avgs, py::object momentum_bufs,
                           py::object grad_avgs, double lr, double alpha, double eps, double weight_decay,
                           double momentum, bool centered, bool maximize) {
    check_lr("rmsprop_step", lr);
    OptimHyper h;
    h.lr = lr, h.alpha = alpha, h.eps = eps, h.weight_decay = weight_decay, h.momentum = momentum;
    h.centered = centered, h.maximize = maximize;
    Lists l{params, grads, square_avgs, momentum > 0 ? momentum_bufs : py::none(),
            centered ? grad_avgs : py::none(), {"params", "grads", "square_avgs", "momentum_bufs", "grad_avgs"},
            {true, momentum > 0, centered}};
    step("rmsprop_step", OptimKind::rmsprop, l, {}, {}, h);
  });
  m.def("adagrad_step", [](py::object params, py::object grads, py::object state_sums, std::vector<double> steps,
                           double lr, double lr_decay, double weight_decay, double eps, bool maximize) {
    check_lr("adagrad_step", lr);
    OptimHyper h;
    h.lr = lr, h.lr_decay = lr_decay, h.weight_decay = weight_decay, h.eps = eps, h.maximize = maximize;
    Lists l{params, grads, state_sums, py::none(), py::none(), {"params", "grads", "state_sums", "", ""},
            {true, false, false}};
    step("adagrad_step", OptimKind::adagrad, l, steps, {}, h);
  });
  m.def("adadelta_step", [](py::object params, py::object grads, py::object square_avgs, py::object acc_deltas,
                            double lr, double rho, double eps, double weight_decay, bool maximize) {
    check_lr("adadelta_step", lr);
    OptimHyper h;
    h.lr = lr, h.alpha = rho, h.eps = eps, h.weight_decay = weight_decay, h.maximize = maximize;
    Lists l{params, grads, square_avgs, acc_deltas, py::none(), {"params", "grads", "square_avgs", "acc_deltas", ""},
            {true, true, false}};
    step("adadelta_step", OptimKind::adadelta, l, {}, {}, h);
  });
}
