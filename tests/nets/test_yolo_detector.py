"""The YOLO v1 detector: decoding as darknet's, per-class NMS, the loss terms, a thin net that learns,
and its Winograd form."""
import numpy as np
import overfit_check
import tensorflow.compat.v1 as tf
import winograd_check

from tf1zoo.nets import nets_factory, yolo_detector


def test_decoding_is_class_probability_times_confidence_at_the_cell():
    detector = yolo_detector.YoloV1Detector(3, layers=None)  # C = 2
    predictions = {key: np.zeros(shape, np.float32) for key, shape in (
        ('class_probabilities', [1, 49, 2]), ('confidences', [1, 49, 2]), ('box_codes', [1, 49, 2, 4]))}
    # Cell 10 (row 1, col 3), predictor 1: x, y offsets (0.5, 0.25), sqrt sizes (0.4, 0.2).
    predictions['box_codes'][0, 10, 1] = [0.5, 0.25, 0.4, 0.2]
    predictions['confidences'][0, 10, 1] = 0.8
    predictions['class_probabilities'][0, 10] = [0.25, 0.5]
    with tf.Graph().as_default(), tf.Session() as session:
        boxes, scores = session.run(detector.decode(
            {key: tf.constant(value) for key, value in predictions.items()}))
        out = session.run(detector.postprocess(
            {key: tf.constant(value) for key, value in predictions.items()}, score_threshold=0.1))
    centre_x, centre_y, width, height = (0.5 + 3) / 7, (0.25 + 1) / 7, 0.16, 0.04
    np.testing.assert_allclose(boxes[0, 21], [centre_y - height / 2, centre_x - width / 2,
                                              centre_y + height / 2, centre_x + width / 2], atol=1e-6)
    np.testing.assert_allclose(scores[0, 21], [0.2, 0.4], atol=1e-6)
    assert out['num_detections'][0] == 2  # both classes of the one box pass 0.1
    np.testing.assert_allclose(out['detection_scores'][0, :2], [0.4, 0.2], atol=1e-6)
    assert out['detection_classes'][0, :2].tolist() == [2, 1]
    assert out['detection_boxes'].shape == (1, 49 * 2 * 2, 4)


def test_the_factory_builds_it_with_the_papers_deploy_thresholds():
    spec = nets_factory.get_model_spec('yolo_v1')
    detector = spec.build(21)
    settings = detector.nms_settings({})
    assert (settings['score_threshold'], settings['iou_threshold'], settings['keep_top_k']) == (
        0.001, 0.5, 1960)
    assert spec.display_postprocess == {'score_threshold': 0.2, 'iou_threshold': 0.4}
    assert spec.default_convention == 'darknet_rgb' and spec.preprocessing_name == 'yolo_448'


def test_thin_yolo_overfits_two_images():
    # Without dropout: the check reads the detections of the training graph, where fc1's dropout
    # would make them random draws.
    detector = nets_factory.get_model_spec('yolo_v1').build(3, depth_multiplier=1 / 16, batch_norm=True,
                                                            weight_decay=0.0, dropout=0.0)
    first, last, out, groundtruth = overfit_check.train_on_two_images(
        detector, 448, steps=150, learning_rate=3e-4, convention='darknet_rgb')
    overfit_check.assert_learned(first, last, out, groundtruth)


def test_winograd_restores_the_direct_nets_checkpoint_and_predicts_the_same(tmp_path):
    spec = nets_factory.get_model_spec('yolo_v1')
    images = np.random.default_rng(0).uniform(0, 1, (2, 448, 448, 3))

    (direct, direct_ops), (fast, fast_ops) = winograd_check.direct_and_winograd_predictions(
        spec, images, str(tmp_path / 'model'), num_classes=4, depth_multiplier=1 / 16,
        batch_norm=True)
    assert 'BatchMatMulV2' in fast_ops and 'BatchMatMulV2' not in direct_ops
    # 13 of the 24 convolutions are 3x3 stride 1 (pad=1): the 7x7/2, the 3x3/2 and the 1x1s stay.
    assert direct_ops.count('Conv2D') - fast_ops.count('Conv2D') == 13
    for key in direct:
        scale = np.abs(direct[key]).max()
        np.testing.assert_allclose(fast[key], direct[key], rtol=0, atol=1e-4 * scale)
