"""The SSD detector around the net: its priors, its loss and decoding, and a thin SSD300 that learns."""
import cv2
import numpy as np
import tensorflow.compat.v1 as tf

from tf1zoo.datasets import standard_fields
from tf1zoo.nets import nets_factory, single_shot_detector, ssd_vgg_300
from tf1zoo.ops import anchor_generator
from tf1zoo.preprocessing import image_conventions

F = standard_fields.InputDataFields
THIN = 0.125


def _detector(**kwargs):
    return nets_factory.get_model_spec('ssd_vgg_300').build(num_classes=3, depth_multiplier=THIN,
                                                            **kwargs)


def test_priors_come_from_the_built_maps_in_caffe_order():
    expected = anchor_generator.MultiscaleAnchors(
        [anchor_generator.PriorBoxSpec(size, layer.min_size, layer.max_size, layer.aspect_ratios,
                                       True, layer.step)
         for size, layer in zip((38, 19, 10, 5, 3, 1), ssd_vgg_300.PRIOR_LAYERS)], 300).generate()
    for data_format in ('NHWC', 'NCHW'):
        with tf.Graph().as_default():
            predictions, _ = _detector(data_format=data_format).predict(
                tf.zeros([2, 300, 300, 3]), is_training=False)
            with tf.Session() as session:
                anchors = session.run(predictions[single_shot_detector.ANCHORS])
            assert predictions['box_encodings'].shape.as_list() == [2, 8732, 4]
            assert predictions['class_predictions_with_background'].shape.as_list() == [2, 8732, 3]
            np.testing.assert_array_equal(anchors, expected)


def _two_images():
    """Two 300 x 300 images on grey: a red square (class 1) and a blue disc plus square (2, 1)."""
    images = np.full((2, 300, 300, 3), 110, np.uint8)
    cv2.rectangle(images[0], (60, 90), (179, 209), (220, 30, 30), -1)
    cv2.circle(images[1], (200, 100), 60, (30, 30, 220), -1)
    cv2.rectangle(images[1], (30, 180), (119, 269), (220, 30, 30), -1)
    boxes = np.zeros((2, 2, 4), np.float32)
    boxes[0, 0] = [90 / 300, 60 / 300, 210 / 300, 180 / 300]
    boxes[1, 0] = [40 / 300, 140 / 300, 161 / 300, 261 / 300]
    boxes[1, 1] = [180 / 300, 30 / 300, 270 / 300, 120 / 300]
    classes = np.array([[1, 0], [2, 1]], np.int32)
    return images, boxes, classes, np.array([1, 2], np.int32)


def _iou(a, b):
    inter = max(min(a[2], b[2]) - max(a[0], b[0]), 0) * max(min(a[3], b[3]) - max(a[1], b[1]), 0)
    area = lambda x: (x[2] - x[0]) * (x[3] - x[1])  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def test_thin_ssd300_overfits_two_images():
    images, boxes, classes, counts = _two_images()
    with tf.Graph().as_default():
        tf.set_random_seed(0)
        detector = _detector()
        inputs = image_conventions.normalize_image(tf.constant(images, tf.float32),
                                                   image_conventions.CAFFE_BGR)
        predictions, _ = detector.predict(inputs, is_training=True)
        losses = detector.loss(predictions, {F.groundtruth_boxes: tf.constant(boxes),
                                             F.groundtruth_classes: tf.constant(classes),
                                             F.num_groundtruth_boxes: tf.constant(counts)})
        total = losses['localization_loss'] + losses['classification_loss']
        train_op = tf.train.AdamOptimizer(1e-3).minimize(total)
        detections = detector.postprocess(predictions, keep_top_k=5)
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            first = session.run(total)
            for _ in range(120):
                _, last = session.run([train_op, total])
            out = session.run(detections)
    assert np.isfinite(last) and last < 0.2 * first, (first, last)
    for image in range(2):
        for box, label in zip(boxes[image][:counts[image]], classes[image][:counts[image]]):
            # The best detection of the box's class lies on the box.
            hits = [i for i in range(out['num_detections'][image])
                    if out['detection_classes'][image, i] == label]
            best = max(hits, key=lambda i: out['detection_scores'][image, i])
            assert out['detection_scores'][image, best] > 0.5
            assert _iou(out['detection_boxes'][image, best], box) > 0.6
