"""YOLO v1's preprocessing against darknet's crop_image / resize_image / correct_boxes in NumPy."""
import pathlib
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from tf1zoo.ops import standard_fields
from tf1zoo.preprocessing import preprocessing_factory, yolo_preprocessing

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / 'scripts'))
import darknet_reference  # noqa: E402

fields = standard_fields.InputDataFields


def _crop_image(image, left, top, width, height):
    """src/image.c crop_image: indices outside the image clamp to its border."""
    rows = np.clip(np.arange(height) + top, 0, image.shape[0] - 1)
    cols = np.clip(np.arange(width) + left, 0, image.shape[1] - 1)
    return image[rows][:, cols]


@pytest.mark.parametrize('top, left, height, width', [(0, 0, 37, 53), (-6, 4, 45, 41), (5, -9, 30, 70)])
def test_crop_and_resize_is_darknets(top, left, height, width):
    image = np.random.default_rng(0).uniform(0, 1, (37, 53, 3)).astype(np.float32)
    expected = darknet_reference.darknet_resize(_crop_image(image, left, top, width, height), 24, 24)
    with tf.Graph().as_default(), tf.Session() as session:
        ours = session.run(yolo_preprocessing.darknet_crop_and_resize(
            tf.constant(image), top, left, height, width, 24))
    np.testing.assert_allclose(ours, expected, atol=2e-6)


def test_boxes_follow_the_crop_and_the_flip_as_correct_boxes_does():
    boxes = np.array([[0.2, 0.1, 0.6, 0.5], [0.0, 0.8, 0.3, 1.0]], np.float32)
    height, width, top, left, crop_height, crop_width = 100, 200, -10, 20, 110, 150
    # correct_boxes: left * (ow / swidth) - (pleft / ow) / (swidth / ow), then flip, then clip.
    sx, sy = width / crop_width, height / crop_height
    dx, dy = (left / width) / (crop_width / width), (top / height) / (crop_height / height)
    x_left, x_right = boxes[:, 1] * sx - dx, boxes[:, 3] * sx - dx
    x_left, x_right = 1 - x_right, 1 - x_left
    expected = np.clip(np.stack([boxes[:, 0] * sy - dy, x_left, boxes[:, 2] * sy - dy, x_right], 1), 0, 1)
    with tf.Graph().as_default(), tf.Session() as session:
        moved = session.run(yolo_preprocessing._moved_boxes(  # noqa: SLF001
            tf.constant(boxes), height, width, top, left, crop_height, crop_width, tf.constant(True)))
    np.testing.assert_allclose(moved, expected, atol=1e-6)


def test_the_factory_entries_give_the_nets_input():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)
    boxes = np.array([[0.1, 0.2, 0.5, 0.6]], np.float32)
    preprocess = preprocessing_factory.get_preprocessing('yolo_448')
    with tf.Graph().as_default(), tf.Session() as session:
        tensor_dict = {fields.image: tf.constant(image), fields.groundtruth_boxes: tf.constant(boxes),
                       fields.groundtruth_classes: tf.constant([3])}
        evaluated = session.run(preprocess(tensor_dict, is_training=False, convention='darknet_rgb'))
        trained = [session.run(preprocess(tensor_dict, is_training=True, convention='darknet_rgb', seed=s))
                   for s in range(5)]
    expected = darknet_reference.darknet_resize(image.astype(np.float32) / 255.0, 448, 448)
    np.testing.assert_allclose(evaluated[fields.image], expected, atol=2e-6)
    np.testing.assert_array_equal(evaluated[fields.groundtruth_boxes], boxes)
    for result in trained:
        assert result[fields.image].shape == (448, 448, 3)
        assert 0.0 <= result[fields.image].min() and result[fields.image].max() <= 1.0
        box = result[fields.groundtruth_boxes][0]
        assert np.all((box >= 0) & (box <= 1)) and box[2] > box[0] and box[3] > box[1]
    assert len({float(r[fields.image].mean()) for r in trained}) == 5  # the draws differ


def test_hsv_distortion_scales_saturation_and_value():
    rgb = np.array([[[0.5, 0.25, 0.125]]], np.float32)  # HSV (1/42, 0.75, 0.5)
    with tf.Graph().as_default(), tf.Session() as session:
        out = session.run(yolo_preprocessing.distort_hsv(tf.constant(rgb), 1.2, 1.5, 0.0))
    # V 0.5 -> 0.75, S 0.75 -> 0.9: max 0.75, min 0.75 * (1 - 0.9) = 0.075, hue kept.
    np.testing.assert_allclose(out[0, 0, 0], 0.75, atol=1e-6)
    np.testing.assert_allclose(out[0, 0, 2], 0.075, atol=1e-6)
    assert (out[0, 0, 1] - 0.075) / (0.75 - 0.075) == pytest.approx((0.25 - 0.125) / (0.5 - 0.125), rel=1e-5)
