"""YOLO v1's Eq. (3) on hand-made numbers, and against darknet's detection layer restated in NumPy."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from tf1zoo.ops import yolo_box_coder, yolo_loss

SQRT = np.sqrt


def _hand_case():
    """S = 2, B = 2, C = 2, one image (see the test for the numbers)."""
    box_codes = np.zeros([1, 4, 2, 4], np.float32)
    box_codes[0, 0, 0] = [0.5, 0.5, 0.5, 0.5]      # centred on object A, 0.25 wide: IoU 0.694
    box_codes[0, 0, 1] = [0.5, 0.5, 0.55, 0.55]    # centred on A, 0.3025 wide: IoU 0.9835
    box_codes[0, 3, 0] = [0.0, 0.0, 0.1, 0.1]      # both miss object D: least RMSE wins
    box_codes[0, 3, 1] = [0.95, 0.9, 0.1, 0.1]
    confidences = np.array([[[0.3, 0.8], [0.1, -0.2], [0.5, 0.0], [0.6, 0.4]]], np.float32)
    class_probs = np.array([[[0.2, 0.7], [0.5, 0.5], [0.1, 0.9], [0.9, 0.3]]], np.float32)
    boxes = np.array([[[0.1, 0.1, 0.4, 0.4],        # A, class 2, cell 0 (centre 0.25, 0.25)
                       [0.0, 0.0, 0.2, 0.2],        # B, cell 0 as well: the first object wins
                       [0.7, 0.7, 0.702, 0.9],      # C, 0.002 high: ignored
                       [0.6, 0.6, 0.9, 0.8],        # D, class 1, cell 3 (centre 0.75, 0.7)
                       [0.0, 0.0, 0.0, 0.0]]], np.float32)  # padding
    classes = np.array([[2, 1, 1, 1, 0]], np.int32)
    return class_probs, confidences, box_codes, boxes, classes, np.array([4], np.int32)


def _run(tensors):
    with tf.Session() as session:
        return session.run(tensors)


def test_targets_first_object_per_cell_tiny_boxes_ignored_and_the_responsible_predictor():
    class_probs, confidences, box_codes, boxes, classes, num = _hand_case()
    with tf.Graph().as_default():
        targets = _run(yolo_loss.assign_targets(tf.constant(box_codes), tf.constant(boxes),
                                                tf.constant(classes), tf.constant(num),
                                                yolo_box_coder.GridBoxCoder(2), 2))
    np.testing.assert_array_equal(targets.has_object, [[1, 0, 0, 1]])
    np.testing.assert_array_equal(targets.class_targets[0, [0, 3]], [[0, 1], [1, 0]])
    np.testing.assert_allclose(targets.code_targets[0, 0], [0.5, 0.5, SQRT(0.3), SQRT(0.3)], atol=1e-6)
    np.testing.assert_allclose(targets.code_targets[0, 3], [0.4, 0.5, SQRT(0.2), SQRT(0.3)], atol=1e-6)
    # Cell 0 by IoU (0.983 > 0.694); cell 3 by RMSE (no overlap): predictor 0 is 0.2227^0.5 away,
    # predictor 1 0.2583^0.5.
    np.testing.assert_array_equal(targets.responsible[0], [[0, 1], [0, 0], [0, 0], [1, 0]])
    np.testing.assert_allclose(targets.iou[0, 0], [0.0625 / 0.09, 0.09 / 0.3025 ** 2], rtol=1e-5)
    np.testing.assert_allclose(targets.iou[0, 3], [0.0, 0.0])


def test_every_term_of_eq_3_by_hand():
    with tf.Graph().as_default():
        inputs = [tf.constant(value) for value in _hand_case()]
        losses = _run(yolo_loss.yolo_v1_loss(*inputs, coder=yolo_box_coder.GridBoxCoder(2)))
    iou = 0.09 / 0.3025 ** 2
    assert losses.noobject_loss == pytest.approx(0.5 * (0.09 + 0.01 + 0.04 + 0.25 + 0.0 + 0.16))
    assert losses.object_loss == pytest.approx((iou - 0.8) ** 2 + (0.0 - 0.6) ** 2, rel=1e-5)
    assert losses.class_loss == pytest.approx(0.04 + 0.09 + 0.01 + 0.09)
    coordinates = (2 * (0.55 - SQRT(0.3)) ** 2
                   + 0.4 ** 2 + 0.5 ** 2 + (0.1 - SQRT(0.2)) ** 2 + (0.1 - SQRT(0.3)) ** 2)
    assert losses.coordinate_loss == pytest.approx(5 * coordinates, rel=1e-5)
    assert losses.num_objects == 2


def _darknet_detection_cost(output, truth, side, num, classes, coord=5.0, noobj=0.5):
    """forward_detection_layer (src/detection_layer.c) for one image, with darknet's layout, returning
    sum of scale * (target - output)^2 over the deltas it sets (rescore and sqrt on)."""
    locations = side * side
    cost = 0.0
    for i in range(locations):
        t = truth[i * (5 + classes):(i + 1) * (5 + classes)]
        confidences = [output[locations * classes + i * num + j] for j in range(num)]
        if not t[0]:
            cost += noobj * sum(c * c for c in confidences)
            continue
        cost += sum((t[1 + j] - output[i * classes + j]) ** 2 for j in range(classes))
        tx, ty, tw, th = t[1 + classes:]
        best_index, best_iou, best_rmse = -1, 0.0, 20.0
        ious = []
        for j in range(num):
            b = output[locations * (classes + num) + (i * num + j) * 4:][:4]
            out = (b[0] / side, b[1] / side, b[2] ** 2, b[3] ** 2)
            true = (tx / side, ty / side, tw, th)
            inter_w = min(out[0] + out[2] / 2, true[0] + true[2] / 2) - max(out[0] - out[2] / 2,
                                                                            true[0] - true[2] / 2)
            inter_h = min(out[1] + out[3] / 2, true[1] + true[3] / 2) - max(out[1] - out[3] / 2,
                                                                            true[1] - true[3] / 2)
            inter = inter_w * inter_h if inter_w > 0 and inter_h > 0 else 0.0
            iou = inter / (out[2] * out[3] + true[2] * true[3] - inter)
            rmse = np.sqrt(sum((a - b) ** 2 for a, b in zip(out, true)))
            ious.append(iou)
            if best_iou > 0 or iou > 0:
                if iou > best_iou:
                    best_iou, best_index = iou, j
            elif rmse < best_rmse:
                best_rmse, best_index = rmse, j
        for j in range(num):
            if j != best_index:
                cost += noobj * confidences[j] ** 2
        cost += (ious[best_index] - confidences[best_index]) ** 2
        b = output[locations * (classes + num) + (i * num + best_index) * 4:][:4]
        cost += coord * ((tx - b[0]) ** 2 + (ty - b[1]) ** 2 + (np.sqrt(tw) - b[2]) ** 2
                         + (np.sqrt(th) - b[3]) ** 2)
    return cost


def test_the_loss_equals_darknets_detection_layer_on_random_batches():
    side, num, classes, batch = 3, 3, 4, 2
    rng = np.random.default_rng(7)
    cells = side * side
    outputs = rng.uniform(0.0, 1.0, (batch, cells * (classes + 5 * num))).astype(np.float32)
    boxes = np.zeros([batch, 6, 4], np.float32)
    labels = np.zeros([batch, 6], np.int32)
    truth = np.zeros([batch, cells * (5 + classes)])
    for b in range(batch):
        for m in range(6):
            centre = rng.uniform(0.02, 0.98, 2)
            size = rng.uniform(0.05, 0.6, 2)
            boxes[b, m] = np.concatenate([centre - size / 2, centre + size / 2])
            labels[b, m] = rng.integers(1, classes + 1)
            col, row = int(centre[1] * side), int(centre[0] * side)
            index = (col + row * side) * (5 + classes)
            if truth[b, index]:
                continue  # fill_truth_region: the first box of a cell stays
            truth[b, index] = 1
            truth[b, index + labels[b, m]] = 1
            truth[b, index + 1 + classes:index + 5 + classes] = [
                centre[1] * side - col, centre[0] * side - row, size[1], size[0]]
    expected = np.mean([_darknet_detection_cost(outputs[b], truth[b], side, num, classes)
                        for b in range(batch)])
    with tf.Graph().as_default():
        flat = tf.constant(outputs)
        class_probs = tf.reshape(flat[:, :cells * classes], [batch, cells, classes])
        confidences = tf.reshape(flat[:, cells * classes:cells * (classes + num)], [batch, cells, num])
        codes = tf.reshape(flat[:, cells * (classes + num):], [batch, cells, num, 4])
        losses = _run(yolo_loss.yolo_v1_loss(class_probs, confidences, codes, tf.constant(boxes),
                                             tf.constant(labels), tf.constant([6, 6]),
                                             yolo_box_coder.GridBoxCoder(side)))
    total = losses.coordinate_loss + losses.object_loss + losses.noobject_loss + losses.class_loss
    assert total == pytest.approx(expected, rel=1e-5)


def test_the_confidence_target_carries_no_gradient_and_only_the_responsible_codes_do():
    class_probs, confidences, box_codes, boxes, classes, num = _hand_case()
    with tf.Graph().as_default():
        codes = tf.constant(box_codes)
        losses = yolo_loss.yolo_v1_loss(tf.constant(class_probs), tf.constant(confidences), codes,
                                        tf.constant(boxes), tf.constant(classes), tf.constant(num),
                                        yolo_box_coder.GridBoxCoder(2))
        grads = _run(tf.gradients(losses.object_loss + losses.coordinate_loss, codes)[0])
    assert np.count_nonzero(np.abs(grads).sum(-1)) == 2  # cell 0 predictor 1, cell 3 predictor 0
    assert np.abs(grads[0, 0, 1]).sum() > 0 and np.abs(grads[0, 3, 0]).sum() > 0
