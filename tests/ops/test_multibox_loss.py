"""MultiBox loss against a NumPy restatement of Caffe's MultiBoxLossLayer on small hand-made batches."""
from tf1zoo.ops import compat  # noqa: F401

# isort: split
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from tf1zoo.ops import box_coder, matcher, multibox_loss

VARIANCES = np.array([0.1, 0.1, 0.2, 0.2])


def _iou(a, b):
    ymin, xmin = np.maximum(a[:, None, 0], b[None, :, 0]), np.maximum(a[:, None, 1], b[None, :, 1])
    ymax, xmax = np.minimum(a[:, None, 2], b[None, :, 2]), np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(ymax - ymin, 0, None) * np.clip(xmax - xmin, 0, None)
    area = lambda x: (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1])  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None, :] - inter)


def _match(gt, anchors):
    """Caffe MatchBBox: greedy bipartite, then per prediction IoU >= 0.5; -1 background."""
    overlaps = _iou(gt, anchors) if len(gt) else np.zeros([0, len(anchors)])
    matches = -np.ones(len(anchors), int)
    free_gt = set(range(len(gt)))
    while free_gt:
        best, pair = 1e-6, None
        for a in range(len(anchors)):
            for g in sorted(free_gt):
                if matches[a] == -1 and overlaps[g, a] > best:
                    best, pair = overlaps[g, a], (a, g)
        if pair is None:
            break
        matches[pair[0]] = pair[1]
        free_gt.discard(pair[1])
    for a in range(len(anchors)):
        if matches[a] == -1 and len(gt) and overlaps[:, a].max() >= 0.5:
            matches[a] = int(np.argmax(overlaps[:, a]))
    return matches


def _encode(box, anchor):
    centre = lambda b: ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2, b[2] - b[0], b[3] - b[1])  # noqa: E731
    yc, xc, h, w = centre(box)
    ya, xa, ha, wa = centre(anchor)
    return np.array([(yc - ya) / ha, (xc - xa) / wa, np.log(h / ha), np.log(w / wa)]) / VARIANCES


def _smooth_l1(x):
    x = np.abs(x)
    return np.where(x < 1, 0.5 * x * x, x - 0.5).sum()


def _log_softmax(logits):
    shifted = logits - logits.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def reference_loss(box_encodings, logits, anchors, gt_boxes, gt_labels, num_gt, ratio=3.0):
    loc, conf, num_pos = 0.0, 0.0, 0
    for image in range(len(box_encodings)):
        gt, labels = gt_boxes[image][:num_gt[image]], gt_labels[image][:num_gt[image]]
        matches = _match(gt, anchors)
        positives = np.flatnonzero(matches >= 0)
        log_probs = _log_softmax(logits[image])
        for a in positives:
            loc += _smooth_l1(box_encodings[image, a] - _encode(gt[matches[a]], anchors[a]))
            conf -= log_probs[a, labels[matches[a]]]
        negatives = np.flatnonzero(matches < 0)
        background_loss = -log_probs[negatives, 0]
        chosen = negatives[np.argsort(-background_loss, kind='stable')][
            :min(int(ratio * len(positives)), len(negatives))]
        conf -= log_probs[chosen, 0].sum()
        num_pos += len(positives)
    normaliser = max(num_pos, 1)
    return loc / normaliser, conf / normaliser, num_pos


def _anchors():
    # A 4 x 4 grid of 0.25 cells plus a 0.5 square on each quadrant: 20 anchors.
    small = [[i / 4, j / 4, (i + 1) / 4, (j + 1) / 4] for i in range(4) for j in range(4)]
    large = [[i / 2, j / 2, (i + 1) / 2, (j + 1) / 2] for i in range(2) for j in range(2)]
    return np.array(small + large, np.float32)


def _run(box_encodings, logits, anchors, gt_boxes, gt_labels, num_gt):
    with tf.Graph().as_default(), tf.Session() as session:
        result = multibox_loss.multibox_loss(
            tf.constant(box_encodings), tf.constant(logits), tf.constant(anchors),
            tf.constant(gt_boxes), tf.constant(gt_labels), tf.constant(num_gt),
            matcher.Matcher(matched_threshold=0.5), box_coder.CenterSizeBoxCoder())
        return session.run([result.localization_loss, result.classification_loss,
                            result.num_positives, result.targets.positives])


def test_matches_caffe_reference_on_random_batch():
    rng = np.random.default_rng(0)
    anchors = _anchors()
    gt_boxes = np.array([[[0.05, 0.1, 0.3, 0.45], [0.5, 0.5, 0.95, 1.0], [0, 0, 0, 0]],
                         [[0.26, 0.24, 0.74, 0.76], [0.0, 0.0, 0.2, 0.3], [0.6, 0.1, 0.9, 0.2]]],
                        np.float32)
    gt_labels = np.array([[2, 1, 0], [3, 2, 1]], np.int32)
    num_gt = np.array([2, 3], np.int32)
    box_encodings = rng.normal(size=[2, 20, 4]).astype(np.float32)
    logits = rng.normal(size=[2, 20, 4]).astype(np.float32)
    loc, conf, num_pos, positives = _run(box_encodings, logits, anchors, gt_boxes, gt_labels, num_gt)
    expected_loc, expected_conf, expected_pos = reference_loss(
        box_encodings.astype(np.float64), logits.astype(np.float64), anchors.astype(np.float64),
        gt_boxes.astype(np.float64), gt_labels, num_gt)
    assert num_pos == expected_pos == positives.sum()
    assert loc == pytest.approx(expected_loc, rel=1e-4)
    assert conf == pytest.approx(expected_conf, rel=1e-4)


def test_batch_without_ground_truth_is_finite_and_zero():
    anchors = _anchors()
    rng = np.random.default_rng(1)
    loc, conf, num_pos, _ = _run(rng.normal(size=[2, 20, 4]).astype(np.float32),
                                 rng.normal(size=[2, 20, 3]).astype(np.float32), anchors,
                                 np.zeros([2, 1, 4], np.float32), np.zeros([2, 1], np.int32),
                                 np.zeros([2], np.int32))
    # No positives: no mined negatives either (Caffe mines num_pos * 3), and no NaN from 0 / 0.
    assert (loc, conf, num_pos) == (0.0, 0.0, 0.0)


def test_hand_computed_single_positive():
    # One ground truth equal to anchor 16 (the top-left 0.5 square): anchors 0, 1, 4, 5 overlap it
    # with IoU 0.25 only, so it is the single positive; 3 negatives are mined from the other 19.
    anchors = _anchors()
    logits = np.zeros([1, 20, 2], np.float32)
    logits[0, :, 1] = np.linspace(-2.0, 2.0, 20)  # larger foreground logit: harder negative
    box_encodings = np.zeros([1, 20, 4], np.float32)
    box_encodings[0, 16] = [0.5, -2.0, 0.0, 0.0]
    loc, conf, num_pos, positives = _run(box_encodings, logits, anchors, anchors[None, 16:17],
                                         np.array([[1]], np.int32), np.array([1], np.int32))
    assert num_pos == 1 and positives[0].nonzero()[0].tolist() == [16]
    assert loc == pytest.approx(0.5 * 0.5 ** 2 + (2.0 - 0.5))
    softplus = lambda x: np.log1p(np.exp(x))  # noqa: E731  (-log softmax of 2 logits)
    foreground = logits[0, :, 1]
    hardest = [19, 18, 17]  # highest foreground logits among anchors other than 16
    expected = softplus(-foreground[16]) + sum(softplus(foreground[i]) for i in hardest)
    assert conf == pytest.approx(expected, rel=1e-5)
