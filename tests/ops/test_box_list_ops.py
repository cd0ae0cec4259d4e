"""Box ops (TF and their NumPy twins) against brute-force loops on random boxes."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tf1zoo.ops import box_list_ops, np_box_ops

_coordinate = st.floats(0.0, 1.0, width=32)


def _boxes(max_boxes=6):
    """Random [n, 4] boxes; some degenerate (max == min) ones included by the strategy."""
    return hnp.arrays(np.float32, st.tuples(st.integers(1, max_boxes), st.just(4)),
                      elements=_coordinate).map(_sorted_corners)


def _sorted_corners(raw):
    y = np.sort(raw[:, [0, 2]], axis=1)
    x = np.sort(raw[:, [1, 3]], axis=1)
    return np.stack([y[:, 0], x[:, 0], y[:, 1], x[:, 1]], axis=1)


def _loop_iou(boxes1, boxes2):
    result = np.zeros((len(boxes1), len(boxes2)))
    for i, (a0, a1, a2, a3) in enumerate(boxes1.astype(np.float64)):
        for j, (b0, b1, b2, b3) in enumerate(boxes2.astype(np.float64)):
            inter = max(min(a2, b2) - max(a0, b0), 0) * max(min(a3, b3) - max(a1, b1), 0)
            union = (a2 - a0) * (a3 - a1) + (b2 - b0) * (b3 - b1) - inter
            result[i, j] = inter / union if union > 0 else 0.0
    return result


def _eval(tensor):
    with tf.Graph().as_default(), tf.Session() as session:
        return session.run(tensor())


@settings(max_examples=30, deadline=None)
@given(boxes1=_boxes(), boxes2=_boxes())
def test_iou_and_area_match_loops(boxes1, boxes2):
    expected = _loop_iou(boxes1, boxes2)
    tf_iou, tf_area, tf_inter = _eval(lambda: (box_list_ops.iou(boxes1, boxes2),
                                               box_list_ops.area(boxes1),
                                               box_list_ops.intersection(boxes1, boxes2)))
    np.testing.assert_allclose(tf_iou, expected, atol=1e-5)
    np.testing.assert_allclose(np_box_ops.iou(boxes1, boxes2), expected, atol=1e-5)
    areas = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
    np.testing.assert_allclose(tf_area, areas, atol=1e-6)
    np.testing.assert_allclose(np_box_ops.area(boxes1), areas, atol=1e-6)
    np.testing.assert_allclose(tf_inter, np_box_ops.intersection(boxes1, boxes2), atol=1e-6)
    assert ((tf_iou >= 0) & (tf_iou <= 1 + 1e-6)).all()


@settings(max_examples=20, deadline=None)
@given(boxes=_boxes())
def test_matched_iou_is_the_diagonal(boxes):
    other = boxes[::-1].copy()
    matched = _eval(lambda: box_list_ops.matched_iou(boxes, other))
    np.testing.assert_allclose(matched, np.diag(_loop_iou(boxes, other)), atol=1e-5)


def test_iou_hand_computed_and_empty_inputs():
    a = np.array([[0.0, 0.0, 0.5, 0.5]], np.float32)
    b = np.array([[0.25, 0.25, 0.75, 0.75], [0.6, 0.6, 0.7, 0.7]], np.float32)
    # Overlap 0.25 x 0.25 = 1/16; union 1/4 + 1/4 - 1/16 = 7/16.
    np.testing.assert_allclose(_eval(lambda: box_list_ops.iou(a, b)), [[1 / 7, 0.0]], atol=1e-6)
    empty = _eval(lambda: box_list_ops.iou(tf.zeros([0, 4]), b))
    assert empty.shape == (0, 2)


@settings(max_examples=20, deadline=None)
@given(boxes=_boxes(), height=st.integers(1, 2000), width=st.integers(1, 2000))
def test_conversions_round_trip(boxes, height, width):
    def tf_round_trips():
        return (box_list_ops.center_size_to_corners(box_list_ops.corners_to_center_size(boxes)),
                box_list_ops.coco_to_normalized(box_list_ops.normalized_to_coco(
                    boxes, height, width), height, width),
                box_list_ops.voc_to_normalized(box_list_ops.normalized_to_voc(
                    boxes, height, width), height, width),
                box_list_ops.absolute_to_normalized(box_list_ops.normalized_to_absolute(
                    boxes, height, width), height, width))
    for result in _eval(tf_round_trips):
        np.testing.assert_allclose(result, boxes, atol=1e-5)
    np_trips = (np_box_ops.center_size_to_corners(np_box_ops.corners_to_center_size(boxes)),
                np_box_ops.coco_to_normalized(np_box_ops.normalized_to_coco(boxes, height, width),
                                              height, width),
                np_box_ops.voc_to_normalized(np_box_ops.normalized_to_voc(boxes, height, width),
                                             height, width))
    for result in np_trips:
        np.testing.assert_allclose(result, boxes, atol=1e-5)


def test_edge_conventions_hand_computed():
    # A VOC box covering pixels 1..10 x 1..20 of a 20 (high) x 10 (wide) image is the whole image.
    voc = np.array([[1, 1, 10, 20]], np.float32)
    np.testing.assert_allclose(np_box_ops.voc_to_normalized(voc, 20, 10), [[0, 0, 1, 1]])
    # VOC pixel 11 (1-based) of a 100 wide image starts at 0.10; pixel 30 ends at 0.30.
    np.testing.assert_allclose(np_box_ops.voc_to_normalized([[11, 21, 30, 40]], 200, 100),
                               [[0.1, 0.1, 0.2, 0.3]], atol=1e-7)
    # COCO [x, y, w, h] = [10, 20, 30, 40] in a 100 x 200 (h x w) image.
    np.testing.assert_allclose(np_box_ops.coco_to_normalized([[10, 20, 30, 40]], 100, 200),
                               [[0.2, 0.05, 0.6, 0.2]], atol=1e-7)
    centre = np_box_ops.corners_to_center_size(np.array([[0.1, 0.2, 0.5, 0.4]]))
    np.testing.assert_allclose(centre, [[0.3, 0.3, 0.4, 0.2]], atol=1e-7)


def test_clip_to_window():
    boxes = np.array([[-0.2, 0.1, 0.5, 1.3], [1.2, 1.2, 1.5, 1.5]], np.float32)
    clipped = _eval(lambda: box_list_ops.clip_to_window(boxes))
    np.testing.assert_allclose(clipped, [[0.0, 0.1, 0.5, 1.0], [1.0, 1.0, 1.0, 1.0]])


def test_bad_shapes_are_errors():
    with pytest.raises(ValueError, match='4'):
        box_list_ops.area(tf.zeros([3, 5]))
    with pytest.raises(ValueError):
        np_box_ops.iou(np.zeros((3, 3)), np.zeros((2, 4)))
