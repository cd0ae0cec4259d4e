"""Post-processing against a NumPy restatement of Caffe's DetectionOutput rules."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from tf1zoo.ops import post_processing


def _np_iou(box, boxes):
    inter_h = np.maximum(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0)
    inter_w = np.maximum(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0)
    inter = inter_h * inter_w
    area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])  # noqa: E731
    return inter / np.maximum(area(box) + area(boxes) - inter, 1e-12)


def caffe_detection_output(boxes, scores, score_threshold, iou_threshold, top_k, keep_top_k):
    """bbox_util.cpp ApplyNMSFast per class, then the keep_top_k cut, as a list of (class, score, box)."""
    kept = []
    for class_id in range(1, scores.shape[1]):
        candidates = [i for i in np.argsort(-scores[:, class_id], kind='stable')
                      if scores[i, class_id] > score_threshold][:top_k]
        selected = []
        for i in candidates:
            if all(_np_iou(boxes[i], boxes[[j]])[0] <= iou_threshold for j in selected):
                selected.append(i)
        kept += [(class_id, scores[i, class_id], i) for i in selected]
    kept.sort(key=lambda item: -item[1])
    return kept[:keep_top_k]


def _run(boxes, scores, **kwargs):
    with tf.Graph().as_default(), tf.Session() as session:
        return session.run(post_processing.batch_multiclass_nms(
            tf.constant(boxes, tf.float32), tf.constant(scores, tf.float32), **kwargs))


def _random_case(rng, batch, num_boxes, num_classes):
    centres = rng.uniform(0.1, 0.9, size=(batch, num_boxes, 2))
    sizes = rng.uniform(0.05, 0.4, size=(batch, num_boxes, 2))
    boxes = np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=-1).astype(np.float32)
    logits = rng.normal(0, 2, size=(batch, num_boxes, num_classes))
    scores = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    return boxes, scores.astype(np.float32)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2 ** 31 - 1), top_k=st.sampled_from([3, 10, 400]),
       keep_top_k=st.sampled_from([5, 50]), iou_threshold=st.sampled_from([0.3, 0.45, 0.7]))
def test_matches_caffe_rules_on_random_boxes(seed, top_k, keep_top_k, iou_threshold):
    rng = np.random.default_rng(seed)
    boxes, scores = _random_case(rng, batch=2, num_boxes=40, num_classes=4)
    out = _run(boxes, scores, score_threshold=0.05, iou_threshold=iou_threshold,
               top_k_per_class=top_k, keep_top_k=keep_top_k)
    for image in range(2):
        expected = caffe_detection_output(boxes[image], scores[image], 0.05, iou_threshold, top_k,
                                          keep_top_k)
        count = out['num_detections'][image]
        assert count == len(expected)
        np.testing.assert_allclose(out['detection_scores'][image, :count],
                                   [score for _, score, _ in expected], rtol=1e-6)
        np.testing.assert_array_equal(out['detection_classes'][image, :count],
                                      [c for c, _, _ in expected])
        np.testing.assert_allclose(out['detection_boxes'][image, :count],
                                   boxes[image][[i for _, _, i in expected]].reshape(-1, 4))
        # Padding rows are zeros.
        assert not out['detection_scores'][image, count:].any()


def test_hand_made_case_threshold_is_strict_and_background_skipped():
    boxes = np.array([[[0.0, 0.0, 0.5, 0.5],     # A
                       [0.0, 0.05, 0.5, 0.55],   # B: IoU(A, B) = 0.45 / 0.55 = 0.818 -> suppressed
                       [0.6, 0.6, 1.0, 1.0]]],   # C: far away
                     np.float32)
    scores = np.array([[[0.1, 0.9, 0.0],
                        [0.2, 0.8, 0.0],
                        [0.7, 0.1, 0.2]]], np.float32)
    out = _run(boxes, scores, score_threshold=0.1, iou_threshold=0.45, top_k_per_class=10,
               keep_top_k=4)
    # Class 1: A (0.9) kept, B suppressed by A, C at 0.1 is not > 0.1. Class 2: C (0.2).
    # The background column (0.7 for C) never makes a detection.
    assert out['num_detections'][0] == 2
    np.testing.assert_allclose(out['detection_scores'][0], [0.9, 0.2, 0.0, 0.0])
    np.testing.assert_array_equal(out['detection_classes'][0], [1, 2, 0, 0])
    np.testing.assert_allclose(out['detection_boxes'][0, :2], boxes[0, [0, 2]])


def test_combined_method_agrees_when_top_k_does_not_bind():
    boxes, scores = _random_case(np.random.default_rng(7), batch=2, num_boxes=30, num_classes=3)
    kwargs = dict(score_threshold=0.05, iou_threshold=0.45, top_k_per_class=100, keep_top_k=20)
    per_class = _run(boxes, scores, **kwargs)
    combined = _run(boxes, scores, method='combined', **kwargs)
    np.testing.assert_array_equal(per_class['num_detections'], combined['num_detections'])
    np.testing.assert_allclose(per_class['detection_scores'], combined['detection_scores'],
                               rtol=1e-6)
    np.testing.assert_array_equal(per_class['detection_classes'], combined['detection_classes'])


def test_no_box_above_threshold_gives_zero_detections():
    boxes, scores = _random_case(np.random.default_rng(1), batch=1, num_boxes=5, num_classes=3)
    out = _run(boxes, scores, score_threshold=1.0, keep_top_k=3)
    assert out['num_detections'][0] == 0
    assert out['detection_boxes'].shape == (1, 3, 4)


def test_unknown_method_is_an_error():
    with pytest.raises(ValueError, match='method'):
        _run(np.zeros((1, 1, 4)), np.zeros((1, 1, 2)), method='soft')
