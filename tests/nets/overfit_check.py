"""The shared 'a thin detector learns two images' check of the SSD and RefineDet tests."""
import cv2
import numpy as np
import tensorflow.compat.v1 as tf

from tf1zoo.ops import image_conventions, np_box_ops, standard_fields

F = standard_fields.InputDataFields


def two_images(size):
    """Two size x size images on grey: a red square (class 1), and a blue disc (2) plus a red square (1).

    Returns (uint8 images [2, size, size, 3], boxes [2, 2, 4] normalised, classes [2, 2], counts [2]).
    """
    scale = size / 300.0
    pixel = lambda value: int(round(value * scale))  # noqa: E731
    images = np.full((2, size, size, 3), 110, np.uint8)
    cv2.rectangle(images[0], (pixel(60), pixel(90)), (pixel(180) - 1, pixel(210) - 1), (220, 30, 30), -1)
    cv2.circle(images[1], (pixel(200), pixel(100)), pixel(60), (30, 30, 220), -1)
    cv2.rectangle(images[1], (pixel(30), pixel(180)), (pixel(120) - 1, pixel(270) - 1), (220, 30, 30), -1)
    boxes = np.zeros((2, 2, 4), np.float32)
    boxes[0, 0] = [pixel(90), pixel(60), pixel(210), pixel(180)]
    boxes[1, 0] = [pixel(40), pixel(140), pixel(160) + 1, pixel(260) + 1]
    boxes[1, 1] = [pixel(180), pixel(30), pixel(270), pixel(120)]
    return images, boxes / size, np.array([[1, 0], [2, 1]], np.int32), np.array([1, 2], np.int32)


def train_on_two_images(detector, size, steps, learning_rate=1e-3,
                        convention=image_conventions.CAFFE_BGR):
    """Trains ``detector`` with Adam on `two_images` for ``steps``; returns (first loss, last loss,
    detections of the trained net as NumPy, the ground truth)."""
    images, boxes, classes, counts = two_images(size)
    with tf.Graph().as_default():
        tf.set_random_seed(0)
        inputs = image_conventions.normalize_image(tf.constant(images, tf.float32), convention)
        predictions, _ = detector.predict(inputs, is_training=True)
        losses = detector.loss(predictions, {F.groundtruth_boxes: tf.constant(boxes),
                                             F.groundtruth_classes: tf.constant(classes),
                                             F.num_groundtruth_boxes: tf.constant(counts)})
        total = tf.add_n(list(losses.values()))
        train_op = tf.train.AdamOptimizer(learning_rate).minimize(total)
        detections = detector.postprocess(predictions, keep_top_k=5)
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            first = session.run(total)
            for _ in range(steps):
                _, last = session.run([train_op, total])
            out = session.run(detections)
    return first, last, out, (boxes, classes, counts)


def assert_learned(first, last, out, groundtruth, min_score=0.5, min_iou=0.6):
    """The loss fell 5x, and every object's best detection of its class is confident and on it."""
    boxes, classes, counts = groundtruth
    assert np.isfinite(last) and last < 0.2 * first, (first, last)
    for image in range(len(counts)):
        for box, label in zip(boxes[image][:counts[image]], classes[image][:counts[image]]):
            hits = [i for i in range(out['num_detections'][image])
                    if out['detection_classes'][image, i] == label]
            best = max(hits, key=lambda i: out['detection_scores'][image, i])
            assert out['detection_scores'][image, best] > min_score
            iou = np_box_ops.iou(out['detection_boxes'][image, best][np.newaxis], box[np.newaxis])
            assert iou[0, 0] > min_iou
