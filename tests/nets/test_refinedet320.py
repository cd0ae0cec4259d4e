"""RefineDet320: the net's layout, the ARM -> ODM cascade, negative anchor filtering, the losses, and a thin
RefineDet that learns two images."""
import math

import numpy as np
import overfit_check
import tensorflow.compat.v1 as tf
import tf_slim as slim

from tf1zoo.nets import nets_factory, refinedet320, refinedet_detector
from tf1zoo.ops import anchor_generator, standard_fields

F = standard_fields.InputDataFields
THIN = 0.125
LOG_ODDS_99 = math.log(99.0)  # background logit margin where the background probability is 0.99


def _detector(num_classes=3, depth_multiplier=THIN):
    return nets_factory.get_model_spec('refinedet320').build(num_classes, depth_multiplier=depth_multiplier)


def test_layout_end_points_and_variable_names():
    with tf.Graph().as_default():
        predictions, end_points = _detector(num_classes=21, depth_multiplier=1.0).predict(
            tf.zeros([1, 320, 320, 3]), is_training=False)
        shapes = {var.op.name: var.shape.as_list() for var in slim.get_model_variables()}
    sizes = {name: end_points[name].shape.as_list()[1:] for name in
             ('conv4_3_norm', 'conv5_3_norm', 'fc7', 'conv6_2', 'P3', 'P4', 'P5', 'P6')}
    assert sizes == {'conv4_3_norm': [40, 40, 512], 'conv5_3_norm': [20, 20, 512], 'fc7': [10, 10, 1024],
                     'conv6_2': [5, 5, 512], 'P3': [40, 40, 256], 'P4': [20, 20, 256],
                     'P5': [10, 10, 256], 'P6': [5, 5, 256]}
    assert predictions['arm_class_predictions'].shape.as_list() == [1, 6375, 2]
    assert predictions['class_predictions_with_background'].shape.as_list() == [1, 6375, 21]
    assert shapes['vgg_16/conv5/conv5_3/weights'] == [3, 3, 512, 512]
    assert shapes['vgg_16/fc6/weights'] == [3, 3, 512, 1024]
    assert shapes['refinedet320/conv4_3_norm/scale'] == [512]
    assert shapes['refinedet320/conv5_3_norm/scale'] == [512]
    assert shapes['refinedet320/P6-up/weights'] == [2, 2, 256, 256]  # [kh, kw, out, in]
    assert shapes['refinedet320/TL5_1/weights'] == [3, 3, 1024, 256]
    assert shapes['refinedet320/fc7_mbox_conf/weights'] == [3, 3, 1024, 6]
    assert shapes['refinedet320/P3_mbox_conf/weights'] == [3, 3, 256, 63]
    assert len(shapes) == 98


def test_anchors_are_the_6375_refinedet_cells():
    with tf.Graph().as_default():
        predictions, _ = _detector().predict(tf.zeros([1, 320, 320, 3]), is_training=False)
        with tf.Session() as session:
            anchors = session.run(predictions['anchors'])
    np.testing.assert_allclose(anchors, anchor_generator.refinedet_anchors(320), atol=1e-7)
    # The first cell of conv4_3 (step 8, centre 4 px, size 32): the square, then ratio 2 and 1/2.
    side, long_side, short_side = 32 / 320, 32 * math.sqrt(2) / 320, 32 / math.sqrt(2) / 320
    centre = 4 / 320
    expected = [[centre - side / 2, centre - side / 2, centre + side / 2, centre + side / 2],
                [centre - short_side / 2, centre - long_side / 2, centre + short_side / 2,
                 centre + long_side / 2],
                [centre - long_side / 2, centre - short_side / 2, centre + long_side / 2,
                 centre + short_side / 2]]
    np.testing.assert_allclose(anchors[:3], expected, atol=1e-6)


def _hand_predictions(anchors, arm_codes, arm_logits, odm_codes, odm_logits):
    constant = lambda values: tf.constant(np.asarray(values, np.float32)[np.newaxis])  # noqa: E731
    return {'anchors': tf.constant(np.asarray(anchors, np.float32)),
            'arm_box_encodings': constant(arm_codes), 'arm_class_predictions': constant(arm_logits),
            'box_encodings': constant(odm_codes), 'class_predictions_with_background': constant(odm_logits)}


def test_odm_boxes_compose_the_two_regressions():
    # Anchor: centre (0.4, 0.4), size 0.4 x 0.4. ARM (ty, tx, th, tw) = (1, -1, log 1.5 / 0.2, 0): centre
    # (0.4 + 0.1 * 0.4, 0.4 - 0.1 * 0.4) = (0.44, 0.36), size 0.6 x 0.4. ODM (0.5, 0.5, 0, log 0.5 / 0.2)
    # on that: centre (0.44 + 0.1 * 0.5 * 0.6, 0.36 + 0.1 * 0.5 * 0.4) = (0.47, 0.38), size 0.6 x 0.2.
    with tf.Graph().as_default():
        predictions = _hand_predictions(
            anchors=[[0.2, 0.2, 0.6, 0.6]], arm_codes=[[1.0, -1.0, math.log(1.5) / 0.2, 0.0]],
            arm_logits=[[0.0, 2.0]], odm_codes=[[0.5, 0.5, 0.0, math.log(0.5) / 0.2]],
            odm_logits=[[0.0, 5.0, 0.0]])
        detector = _detector()
        outputs = detector.postprocess(predictions)
        refined = detector.refined_anchors(predictions)
        with tf.Session() as session:
            outputs, refined = session.run([outputs, refined])
    np.testing.assert_allclose(refined[0, 0], [0.14, 0.16, 0.74, 0.56], atol=1e-6)
    assert outputs['num_detections'][0] == 1 and outputs['detection_classes'][0, 0] == 1
    np.testing.assert_allclose(outputs['detection_boxes'][0, 0], [0.17, 0.28, 0.77, 0.48], atol=1e-6)


def test_negative_anchor_filtering_removes_exactly_the_anchors_above_the_threshold():
    # Background logit margins around log(99) (background probability 0.99): just below stays,
    # just above is filtered, whatever its ODM scores.
    margins = [LOG_ODDS_99 - 0.05, LOG_ODDS_99 + 0.05, 0.0, 20.0]
    anchors = [[0.1 * i, 0.1 * i, 0.1 * i + 0.3, 0.1 * i + 0.3] for i in range(4)]
    with tf.Graph().as_default():
        predictions = _hand_predictions(
            anchors=anchors, arm_codes=np.zeros((4, 4)), arm_logits=[[m, 0.0] for m in margins],
            odm_codes=np.zeros((4, 4)), odm_logits=[[0.0, 6.0, 0.0]] * 4)
        detector = _detector()
        filtered = detector.filtered_anchors(predictions)
        outputs = detector.postprocess(predictions, iou_threshold=0.99)
        with tf.Session() as session:
            filtered, outputs = session.run([filtered, outputs])
    np.testing.assert_array_equal(filtered[0], [False, True, False, True])
    count = outputs['num_detections'][0]
    kept = sorted(tuple(np.round(box, 6)) for box in outputs['detection_boxes'][0, :count])
    assert kept == sorted(tuple(np.round(np.float32(anchors[i]), 6)) for i in (0, 2))


def _cross_entropy(logits, label):
    logits = np.asarray(logits, np.float64)
    return float(np.log(np.exp(logits).sum()) - logits[label])


def test_losses_on_a_hand_made_case():
    # Anchor 0 sits on the ground truth; anchors 1-4 lie apart (negatives). The ARM moves nothing
    # except anchor 0, whose refined box it shifts by 0.1 of its height. Anchor 1 has the worst
    # background score of the ODM but is filtered by the ARM, so the ODM mines anchors 2, 3, 4.
    gt = [0.1, 0.1, 0.4, 0.4]
    anchors = [gt, [0.6, 0.6, 0.9, 0.9], [0.6, 0.1, 0.9, 0.4], [0.1, 0.6, 0.4, 0.9], [0.5, 0.5, 0.6, 0.6]]
    arm_logits = [[0.0, 1.0], [LOG_ODDS_99 + 1.0, 0.0], [0.5, 0.0], [1.0, 0.0], [2.0, 0.0]]
    odm_logits = [[0.0, 2.0, 0.0], [0.0, 9.0, 0.0], [0.0, 3.0, 0.0], [0.0, 2.0, 0.0], [0.0, 1.0, 0.0]]
    arm_codes = np.zeros((5, 4))
    arm_codes[0] = [1.0, 0.0, 0.0, 0.0]  # refined anchor 0: moved down by 0.1 * 0.3
    with tf.Graph().as_default():
        predictions = _hand_predictions(anchors, arm_codes, arm_logits, np.zeros((5, 4)), odm_logits)
        groundtruth = {F.groundtruth_boxes: tf.constant([[gt]], tf.float32),
                       F.groundtruth_classes: tf.constant([[1]]),
                       F.num_groundtruth_boxes: tf.constant([1])}
        losses = _detector().loss(predictions, groundtruth)
        with tf.Session() as session:
            losses = session.run(losses)
    # ARM: one positive (anchor 0, object) with codes 1, 0, 0, 0 against zero targets: smooth L1 0.5.
    # Its negatives are the 3 with the largest background loss: anchors 2, 3, 4 (logit margin 0.5,
    # 1, 2 -> losses larger than anchor 1's, whose margin is 5.6).
    arm_cls = _cross_entropy(arm_logits[0], 1) + sum(_cross_entropy(arm_logits[i], 0) for i in (2, 3, 4))
    np.testing.assert_allclose(losses['arm_localization_loss'], 0.5, rtol=1e-5)
    np.testing.assert_allclose(losses['arm_classification_loss'], arm_cls, rtol=1e-5)
    # ODM: matched against the refined anchor 0 (IoU 0.8 >= 0.5), its target is the way back: ty = -1
    # (the box is 0.1 * its height above), so smooth L1 0.5 again with zero predictions.
    odm_cls = _cross_entropy(odm_logits[0], 1) + sum(_cross_entropy(odm_logits[i], 0) for i in (2, 3, 4))
    np.testing.assert_allclose(losses['localization_loss'], 0.5, rtol=1e-5)
    np.testing.assert_allclose(losses['classification_loss'], odm_cls, rtol=1e-5)


def test_thin_refinedet_overfits_two_images():
    first, last, out, groundtruth = overfit_check.train_on_two_images(_detector(), 320, steps=150)
    overfit_check.assert_learned(first, last, out, groundtruth)


def test_the_detector_is_a_refinedet_detector():
    assert isinstance(_detector(), refinedet_detector.RefineDetDetector)
    assert refinedet320.POSTPROCESS_DEFAULTS == dict(score_threshold=0.01, iou_threshold=0.45,
                                                     top_k_per_class=1000, keep_top_k=500)
