"""Target assignment over a padded batch against a NumPy restatement of Caffe's MultiBox targets."""
import numpy as np
import tensorflow.compat.v1 as tf

from tf1zoo.ops import box_coder, matcher, np_box_ops, target_assigner


def _np_targets(anchors, gt_boxes, gt_labels, threshold=0.5, variances=(0.1, 0.1, 0.2, 0.2)):
    """Greedy bipartite then per-anchor >= threshold; codes (ty, tx, th, tw) / variances."""
    num_anchors = len(anchors)
    matches = -np.ones(num_anchors, int)
    if len(gt_boxes):
        iou = np_box_ops.iou(gt_boxes, anchors).astype(np.float64)
        free_iou = iou.copy()
        for _ in range(len(gt_boxes)):
            gt, anchor = np.unravel_index(np.argmax(free_iou), free_iou.shape)
            if free_iou[gt, anchor] <= 1e-6:
                break
            matches[anchor] = gt
            free_iou[gt, :] = -1
            free_iou[:, anchor] = -1
        for anchor in np.flatnonzero(matches < 0):
            if iou[:, anchor].max() >= threshold:
                matches[anchor] = np.argmax(iou[:, anchor])
    labels = np.concatenate([[0], gt_labels])[matches + 1]  # -1 (background) -> 0
    codes = np.zeros((num_anchors, 4), np.float32)
    for anchor in np.flatnonzero(matches >= 0):
        (gy, gx, gh, gw), (ay, ax, ah, aw) = np_box_ops.corners_to_center_size(
            np.stack([gt_boxes[matches[anchor]], anchors[anchor]]))
        codes[anchor] = np.array([(gy - ay) / ah, (gx - ax) / aw, np.log(gh / ah),
                                  np.log(gw / aw)]) / variances
    return labels, codes, matches >= 0


def _random_boxes(rng, count):
    centres = rng.uniform(0.2, 0.8, (count, 2))
    sizes = rng.uniform(0.1, 0.5, (count, 2))
    return np.concatenate([centres - sizes / 2, centres + sizes / 2], 1).astype(np.float32)


def test_batch_assign_with_different_box_counts_matches_numpy():
    rng = np.random.default_rng(0)
    anchors = _random_boxes(rng, 60)
    counts = [3, 0, 5]
    gt_boxes = np.zeros((3, 5, 4), np.float32)
    gt_labels = np.zeros((3, 5), np.int32)
    for image, count in enumerate(counts):
        gt_boxes[image, :count] = _random_boxes(rng, count)
        gt_labels[image, :count] = rng.integers(1, 5, count)
        # Padding rows hold junk that must be ignored.
        gt_boxes[image, count:] = [0.0, 0.0, 1.0, 1.0]
        gt_labels[image, count:] = 7
    with tf.Graph().as_default(), tf.Session() as session:
        targets = session.run(target_assigner.batch_assign(
            anchors, gt_boxes, gt_labels, counts, matcher.Matcher(0.5),
            box_coder.CenterSizeBoxCoder()))
    for image, count in enumerate(counts):
        labels, codes, positives = _np_targets(anchors, gt_boxes[image, :count],
                                               gt_labels[image, :count])
        np.testing.assert_array_equal(targets.cls_targets[image], labels)
        np.testing.assert_array_equal(targets.positives[image], positives)
        np.testing.assert_allclose(targets.reg_targets[image], codes, atol=1e-4)
        assert not targets.ignored[image].any()
    assert not targets.positives[1].any()  # no ground truth: all background
    assert targets.positives[0].sum() >= 3  # every box got at least its best anchor


def test_per_image_anchors_and_ignored_anchors():
    anchors = np.array([[[0.0, 0.0, 0.5, 0.5], [0.0, 0.0, 0.4, 0.5], [0.5, 0.5, 1.0, 1.0]],
                        [[0.5, 0.5, 1.0, 1.0], [0.0, 0.0, 0.5, 0.5], [0.0, 0.0, 0.5, 0.3]]],
                       np.float32)
    gt = np.array([[[0.0, 0.0, 0.5, 0.5]], [[0.0, 0.0, 0.5, 0.5]]], np.float32)
    with tf.Graph().as_default(), tf.Session() as session:
        targets = session.run(target_assigner.batch_assign(
            anchors, gt, [[3], [2]], [1, 1], matcher.Matcher(0.7, 0.3),
            box_coder.CenterSizeBoxCoder()))
    # Image 0: anchor 0 is exact (positive); anchor 1 has IoU 0.8 (positive); anchor 2 is background.
    np.testing.assert_array_equal(targets.cls_targets[0], [3, 3, 0])
    # Image 1: anchor 1 exact; anchor 2 has IoU 0.6, inside the [0.3, 0.7) band: ignored, label 0.
    np.testing.assert_array_equal(targets.cls_targets[1], [0, 2, 0])
    np.testing.assert_array_equal(targets.ignored[1], [False, False, True])
    np.testing.assert_allclose(targets.reg_targets[1, 1], 0.0, atol=1e-6)
