// pyfastnn._C: the CPU kernels. Each bindings/*.cpp file binds one area (PYFASTNN_BINDINGS).
#include <omp.h>
#include <cstdlib>  // defines __GLIBC__ on glibc systems
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <initializer_list>
#include <string>

#include "bindings/common.h"
#include "pyfastnn/cpu_features.h"
#include "pyfastnn/gemm.h"

#ifndef PYFASTNN_VERSION
#define PYFASTNN_VERSION "dev"
#endif
#ifndef PYFASTNN_CUDA_MODE
#define PYFASTNN_CUDA_MODE "unknown"
#define PYFASTNN_CUDA_BUILT 0
#endif

namespace py = pybind11;
using namespace pyfastnn;

PYBIND11_MODULE(_C, m) {
  m.doc() = "pyfastnn CPU kernels";
#ifdef __GLIBC__
  // Activations and gradients are allocated and freed every step. glibc hands blocks over
  // 128 KiB back to the OS each time, and the next step page-faults them in again (a 2 MB
  // array costs ~500 faults). Keep such blocks in the heap instead, as PyTorch's allocator does.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
  m.attr("__version__") = PYFASTNN_VERSION;

  m.def("available_cores", &available_cores, "CPUs this process may run on");
  m.def("get_num_threads", &bind::num_threads);
  m.def("set_num_threads", [](int n) {
    if (n < 1) bind::value_error("set_num_threads", "argument 'n' must be >= 1, got " + std::to_string(n));
    bind::set_num_threads(n);
  });

  m.def("isa", [] { return std::string(isa_name(active_isa())); }, "instruction set the kernels use now");
  m.def("best_isa", [] { return std::string(isa_name(best_isa())); }, "instruction set the run-time dispatch picks");
  m.def("supported_isas", [] {
    py::list out;
    for (Isa isa : {Isa::avx512, Isa::avx2, Isa::portable, Isa::avx512_emulated})
      if (isa_supported(isa)) out.append(isa_name(isa));
    return out;
  });
  m.def("set_isa", [](const std::string& name) {
    Isa isa;
    if (!isa_from_name(name.c_str(), &isa))
      bind::value_error("set_isa", "unknown instruction set '" + name +
                                       "'; expected one of 'avx512', 'avx2', 'portable', 'avx512_emulated'");
    if (!isa_supported(isa))
      bind::value_error("set_isa", "instruction set '" + name + "' is not supported by this CPU or build");
    set_active_isa(isa);
  });

  m.def(
      "peak_gflops",
      [](int threads, double seconds) {
        if (threads < 1) bind::value_error("peak_gflops", "argument 'threads' must be >= 1, got " + std::to_string(threads));
        if (!(seconds > 0 && seconds <= 60))
          bind::value_error("peak_gflops", "argument 'seconds' must be in (0, 60], got " + std::to_string(seconds));
        py::gil_scoped_release release;
        return fma_peak_gflops(threads, seconds);
      },
      py::arg("threads"), py::arg("seconds") = 0.25,
      "Measured float32 FMA peak (GFLOP/s) of the active instruction set on `threads` threads.");

  py::dict build;
#if defined(__clang__)
  build["compiler"] = "clang " __clang_version__;
#elif defined(__GNUC__)
  build["compiler"] = "gcc " __VERSION__;
#endif
  build["openmp"] = _OPENMP;
#ifdef PYFASTNN_X86
  build["x86_kernels"] = true;
#else
  build["x86_kernels"] = false;
#endif
  build["cuda_mode"] = PYFASTNN_CUDA_MODE;  // AUTO | ON | OFF, as configured
  build["cuda_built"] = bool(PYFASTNN_CUDA_BUILT);
  m.attr("build_info") = build;

  bind::run_bindings(m);  // every bindings/*.cpp (PYFASTNN_BINDINGS)
}
