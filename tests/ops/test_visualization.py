"""Box drawing for TensorBoard and for detect.py's PNGs."""
import numpy as np
import tensorflow.compat.v1 as tf

from tf1zoo.ops import visualization


def test_draw_detections_outlines_the_box_in_the_class_colour():
    image = np.zeros((100, 200, 3), np.uint8)
    canvas = visualization.draw_detections(image, np.array([[0.5, 0.25, 0.9, 0.75]]), [2], [0.9],
                                           ['a', 'b'])
    color = visualization.class_color(2)
    assert canvas.shape == (100, 200, 3)
    # The rectangle's bottom edge is at y = 90 from x = 50 to 150; its inside stays black.
    np.testing.assert_array_equal(canvas[90, 60:140], [color] * 80)
    assert not canvas[70, 60:140].any()
    assert not image.any()  # the input is not drawn on
    assert visualization.class_color(1) != visualization.class_color(2)


def test_tensorboard_images_mark_groundtruth_green_and_detections_red():
    images = np.zeros((2, 20, 20, 3), np.float32)
    gt = np.array([[[0.1, 0.1, 0.5, 0.5]], [[0.0, 0.0, 0.0, 0.0]]], np.float32)
    det = np.array([[[0.6, 0.6, 1.2, 0.9]], [[0.2, 0.2, 0.8, 0.8]]], np.float32)
    with tf.Graph().as_default(), tf.Session() as session:
        drawn = session.run(visualization.groundtruth_and_detection_images(images, gt, det))
    assert drawn.dtype == np.uint8 and drawn.shape == (2, 20, 20, 3)
    green = np.argwhere(drawn[0][..., 1] == 255)
    # The box [0.1, 0.5] of a 20-pixel side: edges within a pixel of rows / columns 2 and 10.
    assert np.abs(green.min(axis=0) - 2).max() <= 1 and np.abs(green.max(axis=0) - 10).max() <= 1
    # The detection [0.6, 0.6, 1.2, 0.9] is clipped to the image and drawn in red below row 11.
    red = np.argwhere(drawn[0][..., 0] == 255)
    assert red.min() >= 11 and red[:, 0].max() == 19
    red = drawn[1][..., 0] == 255
    assert red.any()
    # A zero padding box marks at most the corner pixel.
    assert (np.argwhere(drawn[1][..., 1] == 255) == 0).all()
