"""YOLO v1's input pipeline as darknet runs it: jittered crop, resize, flip, HSV distortion.

Training (the paper's sec. 2.2, "random scaling and translations of up to 20% of the original image
size ... exposure and saturation of the image by up to a factor of 1.5 in the HSV color space"; the
rules are darknet's ``load_data_region``, src/data.c, and ``random_distort_image``, src/image.c):

1. each side of the image moves by an integer offset drawn from U(-jitter * side, jitter * side)
   (truncated toward zero, as C's int conversion does), which scales and translates the image; pixels
   outside the original repeat its border (``crop_image`` clamps);
2. the crop is resized to 448 x 448 by darknet's bilinear ``resize_image`` (the corner pixels map to
   the corners, TF's ``align_corners=True``), the aspect ratio not kept;
3. a horizontal flip with probability 1/2;
4. in HSV, saturation and value are multiplied by factors drawn as ``rand_scale(1.5)`` (uniform in
   [1, 1.5], then its inverse with probability 1/2) and the hue shifted by U(-hue, hue) (0 in the
   paper, 0.1 in yolov1.cfg); the RGB result is clipped to [0, 1];
5. boxes move with the crop and the flip and are clipped to the image (``correct_boxes``); the loss
   ignores those left narrower or lower than 0.005 of the image.

Evaluation (``validate_yolo`` in examples/yolo.c): the image resized to 448 x 448 the same way, boxes
unchanged. Both end in the model's input convention (darknet's RGB in [0, 1] for YOLO v1).
"""
import tensorflow.compat.v1 as tf

from tf1zoo.ops import image_conventions, standard_fields

fields = standard_fields.InputDataFields

JITTER = 0.2
SATURATION = 1.5
EXPOSURE = 1.5
HUE = 0.0
FLIP_PROB = 0.5


def _op_seed(seed, salt):
    return None if seed is None else (seed * 1000003 + salt) % (2 ** 31 - 1)


def _interpolation(source_start, source_size, output_size, source_limit):
    """(lower indices, upper indices, upper weights) of darknet's resize along one axis, reading a
    crop of ``source_size`` pixels from ``source_start`` of an axis of ``source_limit`` pixels,
    indices clamped to it (``crop_image``). Positions are float32 ``i * ((size - 1) / (out - 1))``
    as darknet computes them."""
    # darknet's float32 division, through float64: grappler's constant folding rewrites a division
    # by a constant as a product with its reciprocal in a session's graph (not inside tf.data), which
    # in float32 would move positions by an ulp and change the rows the quirk darkens; in float64
    # the product rounds to the float32 quotient.
    scale = tf.cast(tf.cast(source_size - 1, tf.float64) / float(max(output_size - 1, 1)), tf.float32)
    position = tf.range(output_size, dtype=tf.float32) * scale
    lower = tf.floor(position)
    weight = position - lower
    lower = tf.cast(lower, tf.int32) + source_start
    clamp = lambda index: tf.clip_by_value(index, 0, source_limit - 1)  # noqa: E731
    return clamp(lower), clamp(lower + 1), weight


def darknet_crop_and_resize(image, top, left, crop_height, crop_width, output_size):
    """darknet's ``resize_image(crop_image(image, left, top, w, h), out, out)``, quirks included.

    ``resize_image`` (src/image.c) interpolates the rows first, taking the crop's last column as it
    is for the last output column; then the columns, where the last output row keeps only its
    ``(1 - dy)`` term: when float32 rounding puts that row's position just below the crop's last
    row, darknet's last row comes out darker, and so does this one.

    Args:
      image: float32 ``[H, W, 3]``.
      top, left, crop_height, crop_width: int32 scalars; the crop may reach outside the image.
      output_size: the square output side.

    Returns:
      float32 ``[output_size, output_size, 3]``.
    """
    shape = tf.shape(image)
    rows_low, rows_high, row_weight = _interpolation(top, crop_height, output_size, shape[0])
    cols_low, cols_high, col_weight = _interpolation(left, crop_width, output_size, shape[1])
    last = tf.equal(tf.range(output_size), output_size - 1)
    last_column = tf.clip_by_value(left + crop_width - 1, 0, shape[1] - 1)
    cols_low = tf.where(last, tf.fill([output_size], last_column), cols_low)
    col_weight = tf.where(last, tf.zeros([output_size]), col_weight)
    col_weight = col_weight[None, :, None]
    part = (1.0 - col_weight) * tf.gather(image, cols_low, axis=1) + \
        col_weight * tf.gather(image, cols_high, axis=1)
    low_weight = (1.0 - row_weight)[:, None, None]
    high_weight = tf.where(last, tf.zeros([output_size]), row_weight)[:, None, None]
    return low_weight * tf.gather(part, rows_low, axis=0) + \
        high_weight * tf.gather(part, rows_high, axis=0)


def _side_offsets(size, jitter, seed):
    """Four integer offsets in (-jitter * size, jitter * size), truncated toward zero."""
    limit = tf.floor(tf.cast(size, tf.float32) * jitter)
    return tf.cast(tf.random.uniform([2], -1.0, 1.0, seed=seed) * limit, tf.int32)


def _rand_scale(maximum, seed):
    """darknet's ``rand_scale``: uniform in [1, maximum], inverted with probability 1/2."""
    draws = tf.random.uniform([2], seed=seed)
    scale = 1.0 + draws[0] * (maximum - 1.0)
    return tf.where(draws[1] < 0.5, scale, 1.0 / scale)


def distort_hsv(image, saturation, exposure, hue_shift):
    """darknet's ``distort_image`` on an RGB image in [0, 1]: S x saturation, V x exposure, hue
    shifted (wrapped to [0, 1)), back to RGB and clipped to [0, 1]."""
    hsv = tf.image.rgb_to_hsv(image)
    hue = hsv[..., 0] + hue_shift
    hue = hue - tf.floor(hue)
    hsv = tf.stack([hue, hsv[..., 1] * saturation, hsv[..., 2] * exposure], axis=-1)
    return tf.clip_by_value(tf.image.hsv_to_rgb(hsv), 0.0, 1.0)


def _moved_boxes(boxes, height, width, top, left, crop_height, crop_width, flip):
    """``correct_boxes``: the boxes in the crop's frame, flipped, clipped to [0, 1]."""
    height, width = tf.cast(height, tf.float32), tf.cast(width, tf.float32)
    top, left = tf.cast(top, tf.float32), tf.cast(left, tf.float32)
    crop_height, crop_width = tf.cast(crop_height, tf.float32), tf.cast(crop_width, tf.float32)
    ymin, xmin, ymax, xmax = tf.unstack(boxes, axis=1)
    ymin, ymax = (ymin * height - top) / crop_height, (ymax * height - top) / crop_height
    xmin, xmax = (xmin * width - left) / crop_width, (xmax * width - left) / crop_width
    xmin, xmax = tf.where(flip, 1.0 - xmax, xmin), tf.where(flip, 1.0 - xmin, xmax)
    return tf.clip_by_value(tf.stack([ymin, xmin, ymax, xmax], axis=1), 0.0, 1.0)


def yolo_train_preprocess(tensor_dict, output_size=448, convention=image_conventions.DARKNET_RGB,
                          seed=None, jitter=JITTER, saturation=SATURATION, exposure=EXPOSURE,
                          hue=HUE, flip_prob=FLIP_PROB):
    """The training pipeline above.

    Args:
      tensor_dict: decoded tensor dict (uint8 RGB image, normalised groundtruth_boxes, ...).
      output_size: the net's input side (448).
      convention: the `image_conventions` name of the net's input.
      seed: optional op seed (reproducible draws).
      jitter, saturation, exposure, hue, flip_prob: the cfg's values.

    Returns:
      the tensor dict with a float32 ``[output_size, output_size, 3]`` input and the moved boxes.
    """
    with tf.name_scope('yolo_train_preprocess'):
        image = tf.cast(tensor_dict[fields.image], tf.float32) / 255.0
        shape = tf.shape(image)
        height, width = shape[0], shape[1]
        left, right = tf.unstack(_side_offsets(width, jitter, _op_seed(seed, 1)))
        top, bottom = tf.unstack(_side_offsets(height, jitter, _op_seed(seed, 2)))
        crop_width, crop_height = width - left - right, height - top - bottom
        image = darknet_crop_and_resize(image, top, left, crop_height, crop_width, output_size)
        flip = tf.random.uniform([], seed=_op_seed(seed, 3)) < flip_prob
        image = tf.cond(flip, lambda: tf.reverse(image, axis=[1]), lambda: image)
        hue_shift = tf.random.uniform([], -hue, hue, seed=_op_seed(seed, 4)) if hue else 0.0
        image = distort_hsv(image, _rand_scale(saturation, _op_seed(seed, 5)),
                            _rand_scale(exposure, _op_seed(seed, 6)), hue_shift)
        result = dict(tensor_dict)
        result[fields.image] = image_conventions.normalize_image(image * 255.0, convention)
        result[fields.groundtruth_boxes] = _moved_boxes(
            tf.reshape(tf.cast(tensor_dict[fields.groundtruth_boxes], tf.float32), [-1, 4]),
            height, width, top, left, crop_height, crop_width, flip)
        return result


def yolo_eval_preprocess(tensor_dict, output_size=448, convention=image_conventions.DARKNET_RGB):
    """Evaluation: darknet's resize to ``output_size`` squared, boxes unchanged."""
    with tf.name_scope('yolo_eval_preprocess'):
        # Resized in [0, 255] (darknet: in [0, 1]; the interpolation is linear, so the same up to
        # rounding): a "/ 255 ... * 255" pair would be rewritten by grappler's constant folding in
        # a session's graph (x * (1 / 255)) but not inside tf.data, and an exported graph would
        # differ from detect.py's by float rounding.
        image = tf.cast(tensor_dict[fields.image], tf.float32)
        shape = tf.shape(image)
        image = darknet_crop_and_resize(image, 0, 0, shape[0], shape[1], output_size)
        result = dict(tensor_dict)
        result[fields.image] = image_conventions.normalize_image(image, convention)
        return result
