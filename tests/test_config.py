"""Threads, instruction-set choice and the configuration report."""

import io
import os
import subprocess
import sys

import pytest

import pyfastnn as pf
from pyfastnn import _C
from pyfastnn.backends import cpu


def _run(code, **env):
    # from a neutral directory: the source tree (no compiled _C) must not shadow the install
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env},
                          cwd=os.path.dirname(os.path.abspath(os.sep)))


def test_threads_roundtrip():
    before = pf.get_num_threads()
    try:
        pf.set_num_threads(1)
        assert pf.get_num_threads() == 1
        pf.set_num_threads(3)
        assert pf.get_num_threads() == 3
    finally:
        pf.set_num_threads(before)


def test_default_threads_are_the_available_cores():
    r = _run("import os, pyfastnn as pf; print(pf.get_num_threads(), len(os.sched_getaffinity(0)))")
    assert r.returncode == 0, r.stderr
    out = r.stdout.split()
    assert out[0] == out[1]


@pytest.mark.parametrize("bad,exc", [(0, ValueError), (-2, ValueError), (1.5, TypeError), ("2", TypeError), (True, TypeError)])
def test_bad_thread_counts(bad, exc):
    with pytest.raises(exc, match="set_num_threads"):
        pf.set_num_threads(bad)


def test_isa_selection():
    supported = cpu.supported_isas()
    assert cpu.best_isa() == supported[0]
    assert "portable" in supported and "avx512_emulated" in supported
    try:
        cpu.set_isa("portable")
        assert cpu.isa() == "portable"
    finally:
        cpu.set_isa(None)
    assert cpu.isa() == cpu.best_isa()
    with pytest.raises(ValueError, match="unknown instruction set 'sse9'"):
        cpu.set_isa("sse9")
    if "avx512" not in supported:
        with pytest.raises(ValueError, match="'avx512' is not supported"):
            cpu.set_isa("avx512")


def test_isa_forced_by_environment():
    r = _run("from pyfastnn.backends import cpu; print(cpu.isa())", PYFASTNN_ISA="portable")
    assert r.returncode == 0 and r.stdout.strip() == "portable"
    r = _run("import pyfastnn", PYFASTNN_ISA="sse9")
    assert r.returncode != 0 and "PYFASTNN_ISA='sse9'" in r.stderr


def test_show_config_reports_what_was_asked():
    buf = io.StringIO()
    pf.show_config(file=buf)
    text = buf.getvalue()
    assert f"pyfastnn {pf.__version__}" in text
    assert f"CPU kernels : {cpu.isa()}" in text
    assert f"threads     : {pf.get_num_threads()} of {_C.available_cores()}" in text
    assert "CUDA module :" in text and "GPU         :" in text


def test_main_job_runs(tmp_path):
    # the README's main job: `pyfastnn` = configuration report + GEMM demo
    r = subprocess.run([sys.executable, "-m", "pyfastnn", "demo", "--size", "300"], capture_output=True, text=True,
                       timeout=300, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "GEMM demo: 300x300" in r.stdout and "max relative error" in r.stdout
    err = float(r.stdout.split("reference:")[1].split()[0])
    assert err < 1e-5


def test_cli_info(capsys):
    from pyfastnn.cli import main

    assert main(["info"]) == 0
    assert "CPU kernels" in capsys.readouterr().out
