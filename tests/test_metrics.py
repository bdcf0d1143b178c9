"""Metrics: each function and Metric class against values computed by hand or by the
scikit-learn formulas written out here; batch accumulation; sample weights; names."""

import numpy as np
import pytest

import pyfastnn as pf
from pyfastnn.train import metrics as M


def _prf_reference(t, p, n):
    """Per-class precision, recall, F1 from label arrays (scikit-learn's definitions, 0 where
    a denominator is 0)."""
    prec, rec, f1 = [], [], []
    for c in range(n):
        tp = np.sum((p == c) & (t == c))
        fp = np.sum((p == c) & (t != c))
        fn = np.sum((p != c) & (t == c))
        pr = tp / (tp + fp) if tp + fp else 0.0
        re = tp / (tp + fn) if tp + fn else 0.0
        prec.append(pr)
        rec.append(re)
        f1.append(2 * pr * re / (pr + re) if pr + re else 0.0)
    return np.array(prec), np.array(rec), np.array(f1)


# ---------------------------------------------------------------- accuracy


def test_binary_accuracy_by_hand():
    y = np.array([1, 0, 1, 1, 0], np.float32)
    p = np.array([0.9, 0.6, 0.4, 0.51, 0.1], np.float32)  # right, wrong, wrong, right, right
    assert M.binary_accuracy(y, p) == pytest.approx(3 / 5)
    assert M.binary_accuracy(y, p, threshold=0.3) == pytest.approx(4 / 5)  # 0.4 -> 1 now right; 0.6 still wrong
    assert M.binary_accuracy(y.reshape(-1, 1), p.reshape(-1, 1)) == pytest.approx(3 / 5)
    assert M.binary_accuracy(y, p.reshape(-1, 1)) == pytest.approx(3 / 5)
    assert M.accuracy(y, p) == pytest.approx(3 / 5)
    # logits: threshold 0
    assert M.binary_accuracy(y, np.array([2.0, 0.5, -1.0, 0.1, -3.0]), threshold=0.0) == pytest.approx(3 / 5)


def test_categorical_and_sparse_accuracy_by_hand():
    p = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6], [0.3, 0.4, 0.3]])
    ids = np.array([1, 2, 2, 0])  # right, wrong, right, wrong
    onehot = np.eye(3)[ids]
    assert M.sparse_categorical_accuracy(ids, p) == 0.5
    assert M.sparse_categorical_accuracy(ids.reshape(-1, 1), p) == 0.5
    assert M.categorical_accuracy(onehot, p) == 0.5
    assert M.accuracy(ids, p) == 0.5
    assert M.accuracy(onehot, p) == 0.5
    assert M.accuracy(pf.tensor(ids), pf.tensor(p)) == 0.5  # Tensors too


def test_top_k_accuracy_by_hand():
    p = np.array([[0.1, 0.5, 0.3, 0.1], [0.4, 0.3, 0.2, 0.1], [0.25, 0.25, 0.3, 0.2]])
    y = np.array([2, 3, 0])
    # top-1: [1], [0], [2] -> 0 hits; top-2: {1,2} {0,1} {2,0|1} -> hits sample 0 (and 2 maybe, tie)
    assert M.top_k_accuracy(y, p, k=1) == 0.0
    assert M.top_k_accuracy(y, p, k=3) == pytest.approx(2 / 3)  # sample 1's class 3 is last
    assert M.top_k_accuracy(y, p, k=4) == 1.0
    assert M.top_k_accuracy(y, p, k=10) == 1.0
    assert M.top_k_accuracy(np.eye(4)[y], p, k=3) == pytest.approx(2 / 3)
    rng = np.random.default_rng(0)
    scores = rng.random((200, 10))
    labels = rng.integers(0, 10, 200)
    rank = (scores > scores[np.arange(200), labels][:, None]).sum(1)  # classes scoring higher
    for k in (1, 3, 5):
        assert M.top_k_accuracy(labels, scores, k=k) == pytest.approx(np.mean(rank < k))
        m = M.TopKCategoricalAccuracy(k=k)
        m.update_state(labels[:70], scores[:70])
        m.update_state(labels[70:], scores[70:])
        assert m.result() == pytest.approx(np.mean(rank < k))


# ---------------------------------------------------------------- precision / recall / F1


def test_binary_precision_recall_f1_by_hand():
    y = np.array([1, 1, 1, 0, 0, 0, 1, 0])
    p = np.array([0.9, 0.8, 0.2, 0.7, 0.1, 0.3, 0.6, 0.55])
    # predicted positive: 0, 1, 3, 6, 7 -> tp = 3 (0, 1, 6), fp = 2 (3, 7), fn = 1 (2)
    assert M.precision(y, p) == pytest.approx(3 / 5)
    assert M.recall(y, p) == pytest.approx(3 / 4)
    assert M.f1_score(y, p) == pytest.approx(2 * 0.6 * 0.75 / 1.35)
    # class ids as predictions
    ids = (p > 0.5).astype(np.int64)
    assert M.precision(y, ids) == pytest.approx(3 / 5)
    assert M.recall(y, ids) == pytest.approx(3 / 4)
    assert M.precision(y, ids.astype(bool)) == pytest.approx(3 / 5)


def test_no_predicted_positives_gives_zero():
    y = np.array([1, 0, 1])
    p = np.array([0.1, 0.2, 0.3])
    assert M.precision(y, p) == 0.0
    assert M.recall(y, p) == 0.0
    assert M.f1_score(y, p) == 0.0


@pytest.mark.parametrize("kind", ["scores", "ids", "onehot"])
def test_multiclass_macro_and_per_class_against_formulas(kind):
    rng = np.random.default_rng(1)
    n, c = 300, 5
    y = rng.integers(0, c, n)
    scores = rng.random((n, c)) + 0.8 * np.eye(c)[y]
    pred = scores.argmax(1)
    want = _prf_reference(y, pred, c)
    y_pred = {"scores": scores, "ids": pred, "onehot": scores}[kind]
    y_true = np.eye(c)[y] if kind == "onehot" else y
    for fn, w in zip((M.precision, M.recall, M.f1_score), want):
        assert fn(y_true, y_pred, average="macro") == pytest.approx(w.mean())
        np.testing.assert_allclose(fn(y_true, y_pred, average=None), w)


def test_multiclass_ids_are_not_thresholded():
    y = np.array([0, 1, 2, 2])
    p = np.array([0, 2, 2, 1])
    prec, rec, f1 = _prf_reference(y, p, 3)
    np.testing.assert_allclose(M.precision(y, p, average=None), prec)
    assert M.recall(y, p, average="macro") == pytest.approx(rec.mean())


def test_macro_average_skips_classes_that_never_occur():
    y = np.array([0, 1, 1, 3])
    scores = np.eye(5)[[0, 1, 3, 3]]  # 5 columns, classes 2 and 4 neither true nor predicted
    prec, rec, f1 = _prf_reference(y, scores.argmax(1), 5)
    present = [0, 1, 3]
    assert M.precision(y, scores, average="macro") == pytest.approx(prec[present].mean())
    assert M.recall(y, scores, average="macro") == pytest.approx(rec[present].mean())
    assert M.f1_score(y, scores, average="macro") == pytest.approx(f1[present].mean())
    m = M.F1Score(average="macro")
    m.update_state(y, scores)
    assert m.result() == pytest.approx(f1[present].mean())


def test_average_errors():
    with pytest.raises(ValueError, match="macro"):
        M.precision(np.array([0, 1, 2]), np.eye(3), average="binary")
    with pytest.raises(ValueError, match="average"):
        M.recall(np.array([0, 1]), np.array([0.2, 0.8]), average="micro-ish")


# ---------------------------------------------------------------- regression


def test_mae_mse_by_hand():
    y = np.array([[1.0, 2.0], [3.0, 4.0]])
    p = np.array([[1.5, 2.0], [2.0, 6.0]])
    assert M.mean_absolute_error(y, p) == pytest.approx((0.5 + 0 + 1 + 2) / 4)
    assert M.mean_squared_error(y, p) == pytest.approx((0.25 + 0 + 1 + 4) / 4)
    assert M.mean_squared_error(y.reshape(-1), p.reshape(-1)) == pytest.approx(5.25 / 4)
    m = M.MeanAbsoluteError()
    m.update_state(y[:1], p[:1])
    m.update_state(y[1:], p[1:])
    assert m.result() == pytest.approx(3.5 / 4)
    m = M.MeanSquaredError()
    m.update_state(y, p, sample_weight=np.array([1.0, 3.0]))  # per-sample means 0.125 and 2.5
    assert m.result() == pytest.approx((0.125 + 3 * 2.5) / 4)


# ---------------------------------------------------------------- confusion matrix


def test_confusion_matrix_by_hand():
    y = np.array([0, 0, 1, 2, 2, 2])
    p = np.array([0, 1, 1, 2, 0, 2])
    np.testing.assert_array_equal(M.confusion_matrix(y, p), [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    np.testing.assert_array_equal(M.confusion_matrix(y, p, num_classes=4)[:3, :3], [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    assert M.confusion_matrix(y, p, num_classes=4).shape == (4, 4)
    scores = np.eye(3)[p] * 0.8 + 0.1
    np.testing.assert_array_equal(M.confusion_matrix(y, scores), M.confusion_matrix(y, p))
    np.testing.assert_array_equal(M.confusion_matrix(np.eye(3)[y], scores), M.confusion_matrix(y, p))
    # binary scores are thresholded
    np.testing.assert_array_equal(M.confusion_matrix(np.array([0, 1, 1, 0]), np.array([0.2, 0.9, 0.3, 0.6])),
                                  [[1, 1], [1, 1]])
    np.testing.assert_array_equal(M.confusion_matrix(np.array([1, 1]), np.array([0.9, 0.8])), [[0, 0], [0, 2]])
    cm = M.confusion_matrix(y, p)
    assert cm.dtype == np.int64 and cm.sum() == len(y)


def test_confusion_matrix_matches_counting():
    rng = np.random.default_rng(2)
    y, p = rng.integers(0, 4, 500), rng.integers(0, 4, 500)
    want = np.array([[np.sum((y == i) & (p == j)) for j in range(4)] for i in range(4)])
    np.testing.assert_array_equal(M.confusion_matrix(y, p), want)


# ---------------------------------------------------------------- Metric objects


@pytest.mark.parametrize("cls,fn,kind", [
    (M.Accuracy, M.accuracy, "binary"), (M.Accuracy, M.accuracy, "sparse"), (M.Accuracy, M.accuracy, "onehot"),
    (M.BinaryAccuracy, M.binary_accuracy, "binary"), (M.CategoricalAccuracy, M.categorical_accuracy, "onehot"),
    (M.SparseCategoricalAccuracy, M.sparse_categorical_accuracy, "sparse"),
    (M.MeanAbsoluteError, M.mean_absolute_error, "regression"),
    (M.MeanSquaredError, M.mean_squared_error, "regression"),
])
def test_metric_accumulated_over_batches_equals_function(cls, fn, kind):
    rng = np.random.default_rng(3)
    n = 103
    if kind == "binary":
        y, p = rng.integers(0, 2, (n, 1)).astype(np.float32), rng.random((n, 1))
    elif kind == "sparse":
        y, p = rng.integers(0, 4, n), rng.random((n, 4))
    elif kind == "onehot":
        y, p = np.eye(4)[rng.integers(0, 4, n)], rng.random((n, 4))
    else:
        y, p = rng.standard_normal((n, 3)), rng.standard_normal((n, 3))
    m = cls()
    for i in range(0, n, 16):
        m.update_state(y[i : i + 16], p[i : i + 16])
    assert m.result() == pytest.approx(fn(y, p))
    m.reset_state()
    assert m.result() == 0.0
    assert m(y, p) == pytest.approx(fn(y, p))  # __call__ updates and returns the result


@pytest.mark.parametrize("cls,fn", [(M.Precision, M.precision), (M.Recall, M.recall), (M.F1Score, M.f1_score)])
@pytest.mark.parametrize("average", ["binary", "macro"])
def test_confusion_metrics_accumulate(cls, fn, average):
    rng = np.random.default_rng(4)
    if average == "binary":
        y, p = rng.integers(0, 2, 97), rng.random(97)
    else:
        y, p = rng.integers(0, 3, 97), rng.random((97, 3))
    m = cls(average=average)
    assert m.result() == 0.0
    for i in range(0, 97, 10):
        m.update_state(y[i : i + 10], p[i : i + 10])
    assert m.result() == pytest.approx(fn(y, p, average=average))


def test_confusion_metric_with_class_ids_missing_from_later_batches():
    y = np.array([0, 3, 1, 1, 0, 1])
    p = np.array([0, 3, 1, 0, 0, 1])
    m = M.Precision(average="macro")
    m.update_state(y[:2], p[:2])  # classes 0..3
    m.update_state(y[2:], p[2:])  # only 0, 1
    prec, _, _ = _prf_reference(y, p, 4)
    assert m.result() == pytest.approx(prec[[0, 1, 3]].mean())  # class 2 never occurs


def test_weighted_metrics():
    y = np.array([1, 0, 1, 0])
    p = np.array([0.9, 0.8, 0.2, 0.1])  # right, wrong, wrong, right
    w = np.array([1.0, 2.0, 3.0, 4.0])
    m = M.BinaryAccuracy()
    m.update_state(y, p, sample_weight=w)
    assert m.result() == pytest.approx((1 + 4) / 10)
    prec = M.Precision()
    prec.update_state(y, p, sample_weight=w)  # tp weight 1, fp weight 2
    assert prec.result() == pytest.approx(1 / 3)
    rec = M.Recall()
    rec.update_state(y, p, sample_weight=w)  # tp 1, fn 3
    assert rec.result() == pytest.approx(1 / 4)


def test_get_metric_names_classes_instances_and_functions():
    m = M.get_metric("accuracy")
    assert isinstance(m, M.Accuracy) and m.name == "accuracy"
    assert M.get_metric("acc").name == "acc"
    assert isinstance(M.get_metric("mae"), M.MeanAbsoluteError)
    assert isinstance(M.get_metric("f1"), M.F1Score)
    inst = M.Precision()
    assert M.get_metric(inst) is inst
    assert isinstance(M.get_metric(M.Recall), M.Recall)
    logit_acc = M.get_metric("accuracy", threshold=0.0)
    assert logit_acc(np.array([1, 0]), np.array([0.2, -0.1])) == 1.0

    def double_error(y_true, y_pred):
        return 2 * np.abs(y_true - y_pred).reshape(len(y_true), -1).mean(1)

    f = M.get_metric(double_error)
    assert f.name == "double_error"
    assert f(np.array([1.0, 2.0]), np.array([1.5, 2.0])) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="unknown metric"):
        M.get_metric("accuracy_score")
    with pytest.raises(TypeError):
        M.get_metric(3)


def test_metric_repr_and_custom_name():
    m = M.Accuracy(name="acc_custom")
    assert m.name == "acc_custom" and "acc_custom" in repr(m)
