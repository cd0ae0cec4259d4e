"""ops/region_targets.py: py-faster-rcnn's anchor and RoI labelling rules on hand-made IoU tables."""
import numpy as np
import tensorflow.compat.v1 as tf

from tf1zoo.ops import region_targets


def _run(fetches):
    with tf.Session() as session:
        return session.run(fetches)


def test_anchor_labels_follow_anchor_target_layer():
    with tf.Graph().as_default():
        iou = tf.constant([[0.8, 0.2, 0.5, 0.0, 0.75, 0.1],
                           [0.1, 0.25, 0.6, 0.6, 0.0, 0.0]])
        inside = tf.constant([True, True, True, True, False, True])
        labels, best_gt = _run(region_targets.anchor_labels(iou, inside))
        # a0: >= 0.7 and gt0's best; a1, a5: best < 0.3; a2, a3: gt1's best (a tie, both); a4:
        # IoU 0.75 but across the border, ignored.
        np.testing.assert_array_equal(labels, [1, 0, 1, 1, -1, 0])
        np.testing.assert_array_equal(best_gt[[0, 1, 2, 3, 5]], [0, 1, 1, 1, 0])
        # No ground truth: every inside anchor is background.
        labels, _ = _run(region_targets.anchor_labels(tf.zeros([0, 6]), inside))
        np.testing.assert_array_equal(labels, [0, 0, 0, 0, -1, 0])
        # A ground truth that no anchor overlaps marks none foreground through the tie rule.
        labels, _ = _run(region_targets.anchor_labels(tf.zeros([1, 3]), tf.constant([True] * 3)))
        np.testing.assert_array_equal(labels, [0, 0, 0])


def test_subsampling_keeps_at_most_128_positives_and_256_in_all():
    rng = np.random.default_rng(0)
    for num_positive in (200, 20):
        original = rng.permutation(np.concatenate([np.ones(num_positive), np.zeros(300),
                                                   -np.ones(10)]).astype(np.int32))
        with tf.Graph().as_default():
            labels = _run(region_targets.subsample_labels(tf.constant(original), seed=1))
        kept_positive, kept_negative = (labels == 1).sum(), (labels == 0).sum()
        assert kept_positive == min(num_positive, 128)
        assert kept_positive + kept_negative == 256
        assert np.all(original[labels >= 0] == labels[labels >= 0])  # a subset, labels unchanged


def test_roi_labels_take_the_best_ground_truth_class_from_iou_half():
    with tf.Graph().as_default():
        iou = tf.constant([[0.5, 0.49, 0.1, 0.0], [0.3, 0.6, 0.0, 0.0]])
        classes, best_gt = _run(region_targets.roi_labels(iou, tf.constant([3, 7])))
        np.testing.assert_array_equal(classes, [3, 7, 0, 0])
        np.testing.assert_array_equal(best_gt, [0, 1, 0, 0])
        classes, _ = _run(region_targets.roi_labels(iou, tf.constant([3, 7]), background_low=0.1))
        np.testing.assert_array_equal(classes, [3, 7, 0, -1])
        classes, _ = _run(region_targets.roi_labels(tf.zeros([0, 2]), tf.zeros([0], tf.int32)))
        np.testing.assert_array_equal(classes, [0, 0])
