"""Per-anchor losses and mining on hand-made numbers and NumPy references."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from tf1zoo.ops import losses


def _eval(fn):
    with tf.Graph().as_default(), tf.Session() as session:
        return session.run(fn())


def test_smooth_l1_by_hand():
    predictions = np.array([[[0.5, -2.0, 0.0, 1.0]]], np.float32)
    targets = np.zeros_like(predictions)
    # 0.5 * 0.25 + (2 - 0.5) + 0 + (1 - 0.5): |x| = 1 is on the linear side.
    np.testing.assert_allclose(_eval(lambda: losses.smooth_l1(predictions, targets)), [[2.125]])
    # sigma 3 (RPN): the quadratic zone ends at 1/9.
    value = _eval(lambda: losses.smooth_l1(np.array([[[0.1, 0.5, 0, 0]]], np.float32),
                                           np.zeros((1, 1, 4), np.float32), sigma=3.0))
    np.testing.assert_allclose(value, [[0.5 * (3 * 0.1) ** 2 + (0.5 - 0.5 / 9)]], rtol=1e-6)
    with pytest.raises(ValueError):
        losses.smooth_l1(predictions, targets, sigma=0.0)


def test_softmax_cross_entropy_matches_numpy():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 5, 4)).astype(np.float32)
    labels = rng.integers(0, 4, size=(2, 5))
    expected = -np.take_along_axis(logits - np.log(np.exp(logits).sum(-1, keepdims=True)),
                                   labels[..., None], -1)[..., 0]
    np.testing.assert_allclose(_eval(lambda: losses.softmax_cross_entropy(logits, labels)),
                               expected, rtol=1e-5)


def test_hard_negative_mining_three_to_one_per_image():
    cls_loss = np.array([[0.1, 0.9, 0.5, 0.7, 0.3, 0.8, 0.2, 0.6],
                         [0.4, 0.3, 0.2, 0.1, 0.9, 0.8, 0.7, 0.6]], np.float32)
    positives = np.zeros((2, 8), bool)
    positives[0, 1] = True           # 1 positive -> 3 negatives; its own large loss is not one
    candidates = np.ones((2, 8), bool)
    candidates[0, 5] = False         # e.g. filtered by RefineDet's ARM
    selected = _eval(lambda: losses.hard_negative_mining(cls_loss, positives, 3.0, candidates))
    np.testing.assert_array_equal(np.flatnonzero(selected[0]), [2, 3, 7])   # 0.7, 0.6, 0.5
    assert not selected[1].any()     # no positive, no negative


def test_mining_min_negatives_ties_and_cap():
    cls_loss = np.array([[0.5, 0.5, 0.5, 0.1]], np.float32)
    positives = np.zeros((1, 4), bool)
    selected = _eval(lambda: losses.hard_negative_mining(cls_loss, positives, 3.0,
                                                         min_negatives=2))
    np.testing.assert_array_equal(selected[0], [True, True, False, False])  # ties: lower index
    positives = np.array([[True, True, False, False]])
    selected = _eval(lambda: losses.hard_negative_mining(cls_loss, positives, 3.0))
    np.testing.assert_array_equal(selected[0], [False, False, True, True])  # capped at 2 left


def test_ohem_top_k():
    loss = np.array([0.2, 0.9, 0.1, 0.9, 0.5], np.float32)
    indices, mask = _eval(lambda: losses.ohem_top_k(loss, 3))
    np.testing.assert_array_equal(indices, [1, 3, 4])
    np.testing.assert_array_equal(mask, [False, True, False, True, True])
    indices, mask = _eval(lambda: losses.ohem_top_k(loss[:2], 128))
    assert len(indices) == 2 and mask.all()
