#!/usr/bin/env bash
# Issue 8's GPU run in one command, for a session lent an NVIDIA machine (device tool):
#
#   run(command="bash bench/gpu_check.sh", timeout_s=540)
#
# That machine reaches no package registry, but its image already has what this needs
# (CUDA 13 nvcc, CuPy 13x, a CUDA build of PyTorch, pybind11, scikit-build-core, pytest,
# pytest-benchmark), so nothing is installed from outside. Everything it writes goes to
# $OUT (the device tool brings that folder back; bench/out/gpu when run by hand):
#   nvidia-smi.txt, build.log, cuda_tests.log, cuda.json, RESULTS_CUDA.md, bench.log
# Each stage has its own time limit so that one hang cannot eat the whole lease, and a
# failing stage does not stop the later ones (the tables are worth having either way).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/out/gpu}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-16}
PY=${PYTHON:-python3}
started=$(date +%s)
stage() { echo "== $1 ($(($(date +%s) - started)) s)"; }

stage "machine"
nvidia-smi 2>&1 | tee "$OUT/nvidia-smi.txt" | head -15
$PY -c "import sys, cupy, torch; print(sys.version.split()[0], 'cupy', cupy.__version__, 'torch', torch.__version__, torch.cuda.is_available())"

stage "build (CPU package and pyfastnn._cuda for sm_80, sm_90)"
timeout 300 $PY -m pip install --no-deps --no-build-isolation --no-index -e . -Ccmake.define.PYFASTNN_CUDA=ON \
    >"$OUT/build.log" 2>&1
rc=$?
tail -3 "$OUT/build.log"
if [ $rc -ne 0 ]; then echo "build failed (rc $rc): see build.log"; exit $rc; fi
$PY -c "import pyfastnn as pf; ok = pf.cuda.is_available(); print('cuda available:', ok, pf.cuda.get_device_name(0) if ok else '')"

stage "cuda tests (kernels vs the NumPy reference, CPU/GPU training parity, memory)"
timeout 240 $PY -m pytest -q -p no:cacheprovider -m cuda tests/ 2>&1 | tee "$OUT/cuda_tests.log" | tail -25

stage "cuda benchmarks (pyfastnn vs PyTorch on the same GPU)"
timeout 300 $PY -m pytest -q -p no:cacheprovider bench/test_bench_cuda.py --benchmark-json="$OUT/cuda.json" \
    --benchmark-columns=median >"$OUT/bench.log" 2>&1
tail -3 "$OUT/bench.log"
if [ -s "$OUT/cuda.json" ]; then
    $PY bench/report_cuda.py "$OUT/cuda.json" --write "$OUT/RESULTS_CUDA.md"
fi
stage "done"
