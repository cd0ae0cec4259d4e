"""ops/proposal_generator.py against a NumPy restatement of py-faster-rcnn's proposal layer (decode,
clip, minimum size, top-N, greedy NMS, top-N); ops/losses.ohem_select_with_nms by hand."""
import numpy as np
import tensorflow.compat.v1 as tf

from tf1zoo.ops import losses, np_box_ops, proposal_generator


def _numpy_proposals(anchors, scores, codes, height, width, pre, post, iou, min_size):
    ha, wa = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
    ya, xa = anchors[:, 0] + ha / 2, anchors[:, 1] + wa / 2
    yc, xc = codes[:, 0] * ha + ya, codes[:, 1] * wa + xa
    h, w = np.exp(codes[:, 2]) * ha, np.exp(codes[:, 3]) * wa
    boxes = np.clip(np.stack([yc - h / 2, xc - w / 2, yc + h / 2, xc + w / 2], 1), 0, 1)
    sides = (boxes[:, 2:] - boxes[:, :2]) * [height, width]
    large = (sides >= min_size).all(axis=1)
    boxes, scores = boxes[large], scores[large]
    order = np.argsort(-scores, kind='stable')[:pre]
    boxes, scores = boxes[order], scores[order]
    keep = []
    for index in range(len(boxes)):
        if all(np_box_ops.iou(boxes[index:index + 1], boxes[kept:kept + 1])[0, 0] <= iou for kept in keep):
            keep.append(index)
    keep = keep[:post]
    return boxes[keep], scores[keep]


def test_proposals_match_the_numpy_restatement():
    rng = np.random.default_rng(0)
    centres = rng.uniform(0, 1, (400, 2))
    sizes = rng.uniform(0.02, 0.5, (400, 2))
    anchors = np.concatenate([centres - sizes / 2, centres + sizes / 2], 1).astype(np.float32)
    scores = rng.permutation(400).astype(np.float32) / 400  # distinct: one order
    codes = rng.normal(0, 0.3, (400, 4)).astype(np.float32)
    with tf.Graph().as_default(), tf.Session() as session:
        boxes, kept_scores = session.run(proposal_generator.generate_proposals(
            tf.constant(anchors), tf.constant(scores), tf.constant(codes), (320, 480),
            pre_nms_top_n=150, post_nms_top_n=40, nms_iou=0.7, min_size=16))
    expected_boxes, expected_scores = _numpy_proposals(anchors.astype(np.float64), scores, codes,
                                                       320, 480, 150, 40, 0.7, 16)
    assert len(boxes) == 40
    np.testing.assert_allclose(kept_scores, expected_scores)
    np.testing.assert_allclose(boxes, expected_boxes, atol=1e-5)
    sides = (boxes[:, 2:] - boxes[:, :2]) * [320, 480]
    assert sides.min() >= 16 - 1e-3 and boxes.min() >= 0 and boxes.max() <= 1


def test_ohem_takes_the_hardest_rois_after_nms_by_loss():
    boxes = np.array([[0, 0, 0.5, 0.5], [0, 0, 0.5, 0.52], [0.5, 0.5, 1, 1], [0, 0.5, 0.5, 1],
                      [0.5, 0, 1, 0.5]], np.float32)
    loss = np.array([5.0, 4.0, 3.0, 2.0, 1.0], np.float32)
    with tf.Graph().as_default(), tf.Session() as session:
        indices, mask = session.run(losses.ohem_select_with_nms(tf.constant(loss), tf.constant(boxes), 3))
    # RoI 1 overlaps the harder RoI 0 by IoU 0.96 > 0.7: dropped; then the three hardest left.
    np.testing.assert_array_equal(indices, [0, 2, 3])
    np.testing.assert_array_equal(mask, [True, False, True, True, False])
