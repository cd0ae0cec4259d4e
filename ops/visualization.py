"""Drawing boxes: in the graph for TensorBoard, and with OpenCV for detection PNGs.

Boxes are normalised ``[ymin, xmin, ymax, xmax]``; images are RGB.
"""
import colorsys

import cv2
import numpy as np
import tensorflow.compat.v1 as tf

GROUNDTRUTH_COLOR = (0.0, 1.0, 0.0, 1.0)
DETECTION_COLOR = (1.0, 0.2, 0.2, 1.0)


def groundtruth_and_detection_images(images, groundtruth_boxes, detection_boxes, max_images=4):
    """uint8 ``[n, height, width, 3]`` images with ground truth in green, detections in red.

    Args:
      images: float32 or uint8 ``[batch, height, width, 3]`` RGB in [0, 255].
      groundtruth_boxes: float32 ``[batch, max_boxes, 4]`` (a zero padding box marks only the corner pixel).
      detection_boxes: float32 ``[batch, max_detections, 4]``.
      max_images: images kept from the batch.
    """
    with tf.name_scope('DrawBoxes'):
        images = tf.cast(images[:max_images], tf.float32) / 255.0
        images = tf.image.draw_bounding_boxes(images, groundtruth_boxes[:max_images],
                                              colors=[GROUNDTRUTH_COLOR])
        images = tf.image.draw_bounding_boxes(images, tf.clip_by_value(
            detection_boxes[:max_images], 0.0, 1.0), colors=[DETECTION_COLOR])
        return tf.cast(tf.clip_by_value(images, 0.0, 1.0) * 255.0, tf.uint8)


def class_color(class_id):
    """A distinct BGR colour (0-255 ints) per class id, for OpenCV drawing."""
    hue = (class_id * 0.618033988749895) % 1.0  # golden-ratio steps spread the hues
    red, green, blue = colorsys.hsv_to_rgb(hue, 0.85, 0.95)
    return int(blue * 255), int(green * 255), int(red * 255)


def draw_detections(image_rgb, boxes, class_ids, scores, class_names):
    """A BGR uint8 copy of ``image_rgb`` with labelled boxes, ready for ``cv2.imwrite``.

    Args:
      image_rgb: uint8 ``[height, width, 3]``.
      boxes: ``[n, 4]`` normalised boxes; class_ids ``[n]`` 1-based; scores ``[n]``.
      class_names: names of classes 1.. (index 0 is class 1).
    """
    canvas = cv2.cvtColor(np.ascontiguousarray(image_rgb), cv2.COLOR_RGB2BGR)
    height, width = canvas.shape[:2]
    thickness = max(1, round(min(height, width) / 250))
    for box, class_id, score in zip(boxes, class_ids, scores):
        ymin, xmin, ymax, xmax = np.clip(box, 0.0, 1.0) * [height, width, height, width]
        color = class_color(int(class_id))
        top_left = (int(round(xmin)), int(round(ymin)))
        cv2.rectangle(canvas, top_left, (int(round(xmax)), int(round(ymax))), color, thickness)
        label = '%s %.2f' % (class_names[int(class_id) - 1], score)
        (text_w, text_h), baseline = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.4, 1)
        text_top = max(top_left[1] - text_h - baseline, 0)
        cv2.rectangle(canvas, (top_left[0], text_top),
                      (top_left[0] + text_w, text_top + text_h + baseline), color, cv2.FILLED)
        cv2.putText(canvas, label, (top_left[0], text_top + text_h), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                    (0, 0, 0), 1, cv2.LINE_AA)
    return canvas
