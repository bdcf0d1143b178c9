"""The `pyfastnn` command: train (every model, the outputs of --out, errors before training),
bench (quick, Markdown/CSV), info; in-process with tiny settings and once as a subprocess."""

import csv
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

import pyfastnn as pf
from pyfastnn.cli import main

FASHION = "/usr/share/datasets/fashion-mnist"


@pytest.fixture(autouse=True)
def keep_thread_count():
    before = pf.get_num_threads()  # --threads changes the process-wide setting
    yield
    pf.set_num_threads(before)


def has_layers(*names):
    return all(hasattr(pf.nn, n) for n in names)


def test_train_moons_writes_every_output(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--dataset", "moons", "--epochs", "3", "--quiet", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "mlp on moons" in text and "test accuracy:" in text and "time per epoch:" in text
    with open(out / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3 and {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(rows[0])
    weights = pf.load(out / "weights.npz")
    assert set(weights) == {"0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"}
    assert weights["0.weight"].shape == (16, 2)
    summary = (out / "summary.txt").read_text()
    assert "Total params: 354" in summary and "grad norm" in summary and "test: loss" in summary
    if importlib.util.find_spec("matplotlib"):
        for name in ("history.png", "gradient_flow.png", "confusion_matrix.png", "decision_boundary.png"):
            assert (out / name).stat().st_size > 1000, name


def test_train_returns_to_an_accurate_digits_mlp(capsys):
    assert main(["train", "--model", "mlp", "--epochs", "15", "--quiet", "--threads", "1"]) == 0
    text = capsys.readouterr().out
    acc = float(text.split("test accuracy:")[1].split()[0])
    assert acc > 0.9


@pytest.mark.parametrize("model", ["cnn", "lenet", "lstm"])
def test_train_each_image_model_runs(model, capsys):
    if not has_layers("Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm2d"):
        pytest.skip("conv layers not available")
    assert main(["train", "--model", model, "--epochs", "1", "--limit", "160", "--quiet"]) == 0
    assert f"{model} on digits" in capsys.readouterr().out


def test_train_sine_regression(capsys):
    assert main(["train", "--dataset", "sine", "--model", "mlp", "--epochs", "3", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "test mean absolute error:" in text
    assert float(text.split("test mean absolute error:")[1].split()[0]) < 0.5


def test_train_optimizers_and_options(capsys):
    for opt in ("sgd", "rmsprop", "adamw"):
        assert main(["train", "--model", "mlp", "--optimizer", opt, "--lr", "0.05", "--momentum",
                     "0.9" if opt == "sgd" else "0", "--epochs", "1", "--limit", "100", "--quiet", "--seed", "3"]) == 0
    text = capsys.readouterr().out
    assert "sgd lr=0.05" in text and "seed 3" in text


def test_train_is_reproducible(capsys):
    args = ["train", "--dataset", "moons", "--epochs", "2", "--quiet", "--seed", "5"]
    main(args)
    first = capsys.readouterr().out.split("test accuracy:")[1].split()[0:3]
    main(args)
    assert capsys.readouterr().out.split("test accuracy:")[1].split()[0:3] == first


@pytest.mark.skipif(not os.path.isdir(FASHION), reason="Fashion-MNIST not installed (apt install "
                    "dataset-fashion-mnist)")
def test_train_fashion_mnist_subset(capsys):
    assert main(["train", "--dataset", "fashion-mnist", "--model", "mlp", "--epochs", "1", "--limit", "500",
                 "--quiet"]) == 0
    assert "500 training samples" in capsys.readouterr().out


def test_bad_names_list_the_valid_ones(capsys):
    with pytest.raises(SystemExit) as e:
        main(["train", "--model", "resnet"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'resnet'" in err and "mlp" in err and "lenet" in err
    with pytest.raises(SystemExit):
        main(["train", "--dataset", "cifar"])
    assert "fashion-mnist" in capsys.readouterr().err
    assert main(["train", "--dataset", "moons", "--model", "cnn"]) == 2
    assert "does not fit the moons dataset" in capsys.readouterr().err


def test_errors_come_before_training(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert main(["train", "--out", str(blocker / "sub"), "--epochs", "50"]) == 2
    captured = capsys.readouterr()
    assert "--out" in captured.err and "cannot write there" in captured.err
    assert "Epoch" not in captured.out and "test accuracy" not in captured.out
    assert main(["train", "--epochs", "0"]) == 2
    assert "--epochs must be at least 1" in capsys.readouterr().err


def test_device_cuda_without_a_gpu(capsys):
    if getattr(pf, "cuda", None) is not None and pf.cuda.is_available():
        pytest.skip("CUDA is available here")
    assert main(["train", "--device", "cuda"]) == 2
    assert "CUDA is not available" in capsys.readouterr().err


def test_missing_dataset_says_how_to_get_it(tmp_path, monkeypatch, capsys):
    from pyfastnn.data import mnist

    monkeypatch.setenv("PYFASTNN_DATA", str(tmp_path))
    monkeypatch.setattr(mnist, "DEBIAN_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setattr(mnist, "_download", lambda url, dest: (_ for _ in ()).throw(OSError("offline")))
    assert main(["train", "--dataset", "fashion-mnist"]) == 2
    err = capsys.readouterr().err
    assert "apt install dataset-fashion-mnist" in err and "offline" in err


def test_compare_torch(capsys):
    pytest.importorskip("torch")
    assert main(["train", "--model", "mlp", "--epochs", "1", "--limit", "200", "--quiet", "--compare-torch"]) == 0
    assert "(PyTorch, same model and batches)" in capsys.readouterr().out


def test_torch_twin_computes_the_same_function():
    torch = pytest.importorskip("torch")
    if not has_layers("Conv2d", "MaxPool2d", "BatchNorm2d", "AvgPool2d"):
        pytest.skip("conv layers not available")
    from pyfastnn.bench.torch_models import to_torch
    from pyfastnn.train import zoo

    x = np.random.default_rng(0).random((3, 1, 8, 8), dtype=np.float32)
    for name in ("mlp", "cnn", "lenet", "lstm"):
        pf.manual_seed(0)
        model = zoo.build(name, (1, 8, 8), 10).eval()
        with pf.no_grad():
            ours = model(pf.tensor(x)).numpy()
        theirs = to_torch(model).eval()(torch.from_numpy(x)).detach().numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5, err_msg=name)


def test_bench_quick_writes_markdown_and_csv(tmp_path, capsys, monkeypatch):
    from pyfastnn.bench import runner

    real = runner.measure
    monkeypatch.setattr(runner, "measure", lambda fn, budget: real(fn, budget=0.01, min_runs=2, warmup=1))
    md, table = tmp_path / "bench.md", tmp_path / "bench.csv"
    assert main(["bench", "--quick", "--ops", "xent,adam,gemm", "--threads", "1", "--markdown", str(md), "--csv",
                 str(table)]) == 0
    text = capsys.readouterr().out
    assert "softmax cross-entropy 512x1000" in text and "Adam step" in text and "square 512" in text
    assert "| op | case | pyfastnn ms" in md.read_text()
    with open(table) as f:
        rows = list(csv.DictReader(f))
    impls = {r["impl"] for r in rows}
    assert "pyfastnn" in impls and "numpy" in impls
    gemm = [r for r in rows if r["op"] == "gemm" and r["impl"] == "pyfastnn"]
    assert gemm and float(gemm[0]["gflops"]) > 0 and float(gemm[0]["median_s"]) > 0
    assert all(r["threads"] == "1" for r in rows)


def test_bench_unknown_op(capsys):
    assert main(["bench", "--ops", "gemm,fft"]) == 2
    assert "unknown op 'fft'" in capsys.readouterr().err


def test_info_still_works(capsys):
    assert main(["info"]) == 0
    assert "CPU kernels" in capsys.readouterr().out


def test_console_script_defaults_to_train_outside_the_repo(tmp_path):
    # no subcommand: `pyfastnn [options]` is `pyfastnn train [options]`
    r = subprocess.run([sys.executable, "-m", "pyfastnn", "--model", "mlp", "--epochs", "2", "--limit", "300",
                        "--out", "run"], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "mlp on digits" in r.stdout and "Epoch 2/2" in r.stdout and "test accuracy:" in r.stdout
    assert (tmp_path / "run" / "weights.npz").exists()


def test_data_dir_points_at_idx_files(tmp_path, capsys):
    from pyfastnn.data.idx import write_idx

    rng = np.random.default_rng(0)
    for stem, n in (("train", 40), ("t10k", 10)):
        write_idx(rng.integers(0, 256, (n, 12, 12), dtype=np.uint8), tmp_path / f"{stem}-images-idx3-ubyte.gz")
        write_idx(rng.integers(0, 10, n).astype(np.uint8), tmp_path / f"{stem}-labels-idx1-ubyte")
    assert main(["train", "--dataset", "mnist", "--data-dir", str(tmp_path), "--model", "mlp", "--epochs", "1",
                 "--quiet"]) == 0
    assert "40 training samples" in capsys.readouterr().out


@pytest.mark.cuda
def test_train_on_cuda(tmp_path, capsys):
    if getattr(pf, "cuda", None) is None or not pf.cuda.is_available():
        pytest.skip("CUDA is not available here")
    assert main(["train", "--device", "cuda", "--model", "mlp", "--epochs", "2", "--limit", "300", "--quiet",
                 "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "pyfastnn, CUDA" in text and float(text.split("test accuracy:")[1].split()[0]) > 0.5
    assert pf.load(tmp_path / "weights.npz")["1.weight"].shape == (128, 64)  # 0 is the Flatten
