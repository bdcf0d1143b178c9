// _cuda.gemm (strided batched, with the bias/activation epilogue) and the fused linear layer.
#include "common.h"
#include "pyfastnn_cuda/gemm.h"

namespace pyfastnn {
namespace cuda_bind {
namespace {

using cuda::GemmParams;
using cuda::GemmPrecision;

GemmPrecision parse_precision(const char* op, const std::string& s) {
  if (s == "fp32" || s == "ieee") return GemmPrecision::fp32;
  if (s == "tf32") return GemmPrecision::tf32;
  if (s == "bf16") return GemmPrecision::bf16;
  value_error(op, "argument 'precision' must be 'fp32', 'tf32' or 'bf16', got '" + s + "'");
}

void gemm_binding(std::uintptr_t a, std::uintptr_t b, std::uintptr_t c, int64_t m, int64_t n, int64_t k, int64_t lda,
                  int64_t ldb, int64_t ldc, double alpha, double beta, bool trans_a, bool trans_b, int64_t batch,
                  int64_t stride_a, int64_t stride_b, int64_t stride_c, std::uintptr_t bias,
                  const std::string& activation, double act_alpha, double act_beta, const std::string& precision,
                  int variant, std::uintptr_t stream) {
  const char* op = "gemm";
  check_nonneg(op, "m", m);
  check_nonneg(op, "n", n);
  check_nonneg(op, "k", k);
  check_nonneg(op, "batch", batch);
  check_nonneg(op, "stride_a", stride_a);
  check_nonneg(op, "stride_b", stride_b);
  check_nonneg(op, "stride_c", stride_c);
  check_ld(op, "lda", lda, trans_a ? m : k);
  check_ld(op, "ldb", ldb, trans_b ? k : n);
  check_ld(op, "ldc", ldc, n);
  const bool work = m > 0 && n > 0 && batch > 0;
  check_ptr(op, "a", a, work && k > 0);
  check_ptr(op, "b", b, work && k > 0);
  check_ptr(op, "c", c, work);
  if (batch > 1 && stride_c < (m - 1) * ldc + n)
    value_error(op, "argument 'stride_c' must be >= " + std::to_string((m - 1) * ldc + n) +
                        " (the batch items of c must not overlap), got " + std::to_string(stride_c));
  if (variant < 0 || variant > 3)
    value_error(op, "argument 'variant' must be in [0, 3], got " + std::to_string(variant));
  GemmParams p;
  p.trans_a = trans_a;
  p.trans_b = trans_b;
  p.m = m;
  p.n = n;
  p.k = k;
  p.alpha = static_cast<float>(alpha);
  p.beta = static_cast<float>(beta);
  p.a = reinterpret_cast<const float*>(a);
  p.lda = lda;
  p.stride_a = stride_a;
  p.b = reinterpret_cast<const float*>(b);
  p.ldb = ldb;
  p.stride_b = stride_b;
  p.c = reinterpret_cast<float*>(c);
  p.ldc = ldc;
  p.stride_c = stride_c;
  p.batch = batch;
  p.bias = reinterpret_cast<const float*>(bias);
  p.act = parse_activation(op, activation, true);
  p.act_alpha = static_cast<float>(act_alpha);
  p.act_beta = static_cast<float>(act_beta);
  p.precision = parse_precision(op, precision);
  run(op, [&] { return cuda::gemm_variant(p, variant, stream); });
}

// y = act(x @ w.T + bias): x (rows, in), w (out, in), y (rows, out), all C-contiguous float32.
void linear_forward_binding(std::uintptr_t x, std::uintptr_t w, std::uintptr_t bias, std::uintptr_t y, int64_t rows,
                            int64_t in, int64_t out, const std::string& activation, const std::string& precision,
                            std::uintptr_t stream) {
  const char* op = "linear_forward";
  check_nonneg(op, "rows", rows);
  check_nonneg(op, "in_features", in);
  check_nonneg(op, "out_features", out);
  const bool work = rows > 0 && out > 0;
  check_ptr(op, "x", x, work && in > 0);
  check_ptr(op, "weight", w, work && in > 0);
  check_ptr(op, "y", y, work);
  GemmParams p;
  p.trans_b = true;
  p.m = rows;
  p.n = out;
  p.k = in;
  p.a = reinterpret_cast<const float*>(x);
  p.lda = in > 1 ? in : 1;
  p.b = reinterpret_cast<const float*>(w);
  p.ldb = in > 1 ? in : 1;
  p.c = reinterpret_cast<float*>(y);
  p.ldc = out > 1 ? out : 1;
  p.bias = reinterpret_cast<const float*>(bias);
  p.act = parse_activation(op, activation, true);
  p.precision = parse_precision(op, precision);
  run(op, [&] { return cuda::gemm(p, stream); });
}

// The backward of linear_forward: gz = gy * act'(y) (act none or relu; written to gz unless
// act is none, when gz is gy), db = gz.sum(0), dx = gz @ w, dw = gz.T @ x. Null outputs
// are skipped.
void linear_backward_binding(std::uintptr_t x, std::uintptr_t w, std::uintptr_t y, std::uintptr_t gy,
                             std::uintptr_t gz, std::uintptr_t dx, std::uintptr_t dw, std::uintptr_t db,
                             int64_t rows, int64_t in, int64_t out, const std::string& activation,
                             const std::string& precision, std::uintptr_t stream) {
  const char* op = "linear_backward";
  check_nonneg(op, "rows", rows);
  check_nonneg(op, "in_features", in);
  check_nonneg(op, "out_features", out);
  const ActKind act = parse_activation(op, activation, true);
  if (act != ActKind::none && act != ActKind::relu)
    value_error(op, "argument 'activation' must be 'none' or 'relu', got '" + activation + "'");
  const GemmPrecision prec = parse_precision(op, precision);
  const bool relu = act == ActKind::relu;
  const bool work = rows > 0 && out > 0;
  check_ptr(op, "gy", gy, work);
  check_ptr(op, "y", y, work && relu);
  check_ptr(op, "gz", gz, work && relu);
  check_ptr(op, "x", x, work && dw != 0 && in > 0);
  check_ptr(op, "weight", w, work && dx != 0 && in > 0);
  const std::uintptr_t g = relu ? gz : gy;
  run(op, [&] {
    if (!cuda::bias_act_backward(act, DType::f32, reinterpret_cast<const void*>(y), out,
                                 reinterpret_cast<const void*>(gy), out, reinterpret_cast<void*>(g), out,
                                 reinterpret_cast<void*>(db), rows, out, stream))
      return false;
    if (dx) {  // (rows, out) @ (out, in)
      GemmParams p;
      p.m = rows;
      p.n = in;
      p.k = out;
      p.a = reinterpret_cast<const float*>(g);
      p.lda = out > 1 ? out : 1;
      p.b = reinterpret_cast<const float*>(w);
      p.ldb = in > 1 ? in : 1;
      p.c = reinterpret_cast<float*>(dx);
      p.ldc = in > 1 ? in : 1;
      p.precision = prec;
      if (!cuda::gemm(p, stream)) return false;
    }
    if (dw) {  // (rows, out).T @ (rows, in)
      GemmParams p;
      p.trans_a = true;
      p.m = out;
      p.n = in;
      p.k = rows;
      p.a = reinterpret_cast<const float*>(g);
      p.lda = out > 1 ? out : 1;
      p.b = reinterpret_cast<const float*>(x);
      p.ldb = in > 1 ? in : 1;
      p.c = reinterpret_cast<float*>(dw);
      p.ldc = in > 1 ? in : 1;
      p.precision = prec;
      if (!cuda::gemm(p, stream)) return false;
    }
    return true;
  });
}

}  // namespace

void bind_gemm(py::module_& m) {
  m.def("gemm", &gemm_binding, "a"_a, "b"_a, "c"_a, "m"_a, "n"_a, "k"_a, "lda"_a, "ldb"_a, "ldc"_a,
        "alpha"_a = 1.0, "beta"_a = 0.0, "trans_a"_a = false, "trans_b"_a = false, "batch"_a = 1,
        "stride_a"_a = 0, "stride_b"_a = 0, "stride_c"_a = 0, "bias"_a = 0, "activation"_a = "none",
        "act_alpha"_a = 0.0, "act_beta"_a = 0.0, "precision"_a = "fp32", "variant"_a = 0, "stream"_a = 0,
        "float32 C = act(alpha op(A) op(B) + beta C + bias) on device pointers, row-major, for `batch` matrices "
        "(stride_*: elements between items, 0 = shared). precision 'fp32' (CUDA cores), 'tf32' or 'bf16' "
        "(tensor cores, FP32 accumulation); variant 0 = automatic, 1/2 = FP32 128/64 tiles, 3 = tensor cores.");
  m.def("linear_forward", &linear_forward_binding, "x"_a, "weight"_a, "bias"_a, "y"_a, "rows"_a, "in_features"_a,
        "out_features"_a, "activation"_a = "none", "precision"_a = "fp32", "stream"_a = 0,
        "y = act(x @ weight.T + bias) for C-contiguous float32 device arrays (bias 0: none).");
  m.def("linear_backward", &linear_backward_binding, "x"_a, "weight"_a, "y"_a, "gy"_a, "gz"_a, "dx"_a, "dw"_a,
        "db"_a, "rows"_a, "in_features"_a, "out_features"_a, "activation"_a = "none", "precision"_a = "fp32",
        "stream"_a = 0,
        "dx, dw, db of linear_forward (null pointers: not wanted); gz: a (rows, out) workspace for relu.");
}

}  // namespace cuda_bind
}  // namespace pyfastnn
