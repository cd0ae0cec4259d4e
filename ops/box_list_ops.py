"""Box operations on TensorFlow tensors (graph ops).

THE box convention of this repository: a box is ``[ymin, xmin, ymax, xmax]``, float32, normalised
to [0, 1] by the image height and width (y down, x right; a box covers the continuous interval
``[ymin, ymax] x [xmin, xmax]``). Boxes are ``[N, 4]`` per image and ``[batch, N, 4]`` batched.
Element-wise functions here accept any leading shape ``[..., 4]``; pairwise functions take
``[N, 4]`` and ``[M, 4]`` and return ``[N, M]``. Other formats exist only at the edges and are
converted by the functions below (the NumPy twins live in `np_box_ops`, same names):

* absolute pixels: ``[ymin, xmin, ymax, xmax]`` times ``[H, W, H, W]`` (continuous coordinates).
* COCO: ``[x, y, w, h]`` absolute, 0-based continuous.
* Pascal VOC: ``[xmin, ymin, xmax, ymax]`` 1-based inclusive pixel indices. Pixel ``i`` covers
  ``[i - 1, i]``, so the box covers ``[xmin - 1, xmax]``: normalised ``xmin' = (xmin - 1) / W``,
  ``xmax' = xmax / W`` and back ``xmin = xmin' * W + 1``, ``xmax = xmax' * W``.
* centre-size: ``[ycenter, xcenter, height, width]``, normalised.
* Caffe (PriorBox, DetectionOutput): ``[xmin, ymin, xmax, ymax]`` normalised; only the anchor
  generator and the Caffe weight converter meet it.
"""
from tf1zoo.ops import compat  # noqa: F401, I001  (TF 2.21 graph-mode set-up; must precede TF)
import tensorflow.compat.v1 as tf


def _unstack(boxes, name='boxes'):
    boxes = tf.convert_to_tensor(boxes, dtype=tf.float32, name=name)
    last = boxes.shape[-1] if boxes.shape.rank is not None else None
    if boxes.shape.rank == 0 or (last is not None and last != 4):
        raise ValueError('%s must have shape [..., 4], got %s' % (name, boxes.shape))
    return tf.unstack(boxes, num=4, axis=-1)


def _image_size(height, width):
    return tf.cast(height, tf.float32), tf.cast(width, tf.float32)


def area(boxes, scope=None):
    """Areas of ``[..., 4]`` boxes -> float32 ``[...]``; an inverted box (max < min) has area 0."""
    with tf.name_scope(scope, 'Area', [boxes]):
        ymin, xmin, ymax, xmax = _unstack(boxes)
        return tf.maximum(ymax - ymin, 0.0) * tf.maximum(xmax - xmin, 0.0)


def intersection(boxes1, boxes2, scope=None):
    """Pairwise intersection areas of ``[N, 4]`` and ``[M, 4]`` boxes -> float32 ``[N, M]``."""
    with tf.name_scope(scope, 'Intersection', [boxes1, boxes2]):
        ymin1, xmin1, ymax1, xmax1 = [c[:, None] for c in _unstack(boxes1, 'boxes1')]
        ymin2, xmin2, ymax2, xmax2 = [c[None, :] for c in _unstack(boxes2, 'boxes2')]
        heights = tf.maximum(tf.minimum(ymax1, ymax2) - tf.maximum(ymin1, ymin2), 0.0)
        widths = tf.maximum(tf.minimum(xmax1, xmax2) - tf.maximum(xmin1, xmin2), 0.0)
        return heights * widths


def iou(boxes1, boxes2, scope=None):
    """Pairwise intersection-over-union of ``[N, 4]`` and ``[M, 4]`` boxes -> float32 ``[N, M]``.

    N or M may be 0 at run time. A pair with an empty union (two degenerate boxes) has IoU 0,
    as in Caffe's JaccardOverlap (bbox_util.cpp).
    """
    with tf.name_scope(scope, 'IOU', [boxes1, boxes2]):
        inter = intersection(boxes1, boxes2)
        union = area(boxes1)[:, None] + area(boxes2)[None, :] - inter
        return tf.math.divide_no_nan(inter, union)


def matched_intersection(boxes1, boxes2, scope=None):
    """Intersection areas of corresponding rows of two ``[N, 4]`` box sets -> float32 ``[N]``."""
    with tf.name_scope(scope, 'MatchedIntersection', [boxes1, boxes2]):
        ymin1, xmin1, ymax1, xmax1 = _unstack(boxes1, 'boxes1')
        ymin2, xmin2, ymax2, xmax2 = _unstack(boxes2, 'boxes2')
        heights = tf.maximum(tf.minimum(ymax1, ymax2) - tf.maximum(ymin1, ymin2), 0.0)
        widths = tf.maximum(tf.minimum(xmax1, xmax2) - tf.maximum(xmin1, xmin2), 0.0)
        return heights * widths


def matched_iou(boxes1, boxes2, scope=None):
    """IoU of corresponding rows of two ``[N, 4]`` box sets -> float32 ``[N]`` (0 for empty unions)."""
    with tf.name_scope(scope, 'MatchedIOU', [boxes1, boxes2]):
        inter = matched_intersection(boxes1, boxes2)
        union = area(boxes1) + area(boxes2) - inter
        return tf.math.divide_no_nan(inter, union)


def clip_to_window(boxes, window=(0.0, 0.0, 1.0, 1.0), scope=None):
    """Clips ``[..., 4]`` boxes to ``window`` ``[ymin, xmin, ymax, xmax]`` -> ``[..., 4]``.

    Every box is kept (the shape does not change); a box outside the window collapses to a
    zero-area box on its border, which callers can drop with ``area(boxes) > 0``.
    """
    with tf.name_scope(scope, 'ClipToWindow', [boxes, window]):
        ymin, xmin, ymax, xmax = _unstack(boxes)
        win_ymin, win_xmin, win_ymax, win_xmax = tf.unstack(
            tf.convert_to_tensor(window, dtype=tf.float32), num=4)
        clipped = [tf.clip_by_value(ymin, win_ymin, win_ymax),
                   tf.clip_by_value(xmin, win_xmin, win_xmax),
                   tf.clip_by_value(ymax, win_ymin, win_ymax),
                   tf.clip_by_value(xmax, win_xmin, win_xmax)]
        return tf.stack(clipped, axis=-1)


def corners_to_center_size(boxes, scope=None):
    """``[..., 4]`` corner boxes -> ``[..., 4]`` ``[ycenter, xcenter, height, width]``."""
    with tf.name_scope(scope, 'CornersToCenterSize', [boxes]):
        ymin, xmin, ymax, xmax = _unstack(boxes)
        return tf.stack([(ymin + ymax) / 2.0, (xmin + xmax) / 2.0, ymax - ymin, xmax - xmin],
                        axis=-1)


def center_size_to_corners(center_size, scope=None):
    """``[..., 4]`` ``[ycenter, xcenter, height, width]`` -> ``[..., 4]`` corner boxes."""
    with tf.name_scope(scope, 'CenterSizeToCorners', [center_size]):
        ycenter, xcenter, height, width = _unstack(center_size, 'center_size')
        return tf.stack([ycenter - height / 2.0, xcenter - width / 2.0,
                         ycenter + height / 2.0, xcenter + width / 2.0], axis=-1)


def normalized_to_absolute(boxes, height, width, scope=None):
    """Normalised ``[..., 4]`` boxes -> absolute pixel ``[ymin, xmin, ymax, xmax]``.

    ``height`` and ``width`` are Python numbers or scalar tensors (any numeric dtype).
    """
    with tf.name_scope(scope, 'NormalizedToAbsolute', [boxes, height, width]):
        ymin, xmin, ymax, xmax = _unstack(boxes)
        height, width = _image_size(height, width)
        return tf.stack([ymin * height, xmin * width, ymax * height, xmax * width], axis=-1)


def absolute_to_normalized(boxes, height, width, scope=None):
    """Absolute pixel ``[ymin, xmin, ymax, xmax]`` boxes ``[..., 4]`` -> normalised."""
    with tf.name_scope(scope, 'AbsoluteToNormalized', [boxes, height, width]):
        ymin, xmin, ymax, xmax = _unstack(boxes)
        height, width = _image_size(height, width)
        return tf.stack([ymin / height, xmin / width, ymax / height, xmax / width], axis=-1)


def coco_to_normalized(coco_boxes, height, width, scope=None):
    """COCO ``[x, y, w, h]`` absolute boxes ``[..., 4]`` -> normalised ``[ymin, xmin, ymax, xmax]``."""
    with tf.name_scope(scope, 'CocoToNormalized', [coco_boxes, height, width]):
        x, y, w, h = _unstack(coco_boxes, 'coco_boxes')
        height, width = _image_size(height, width)
        return tf.stack([y / height, x / width, (y + h) / height, (x + w) / width], axis=-1)


def normalized_to_coco(boxes, height, width, scope=None):
    """Normalised boxes ``[..., 4]`` -> COCO ``[x, y, w, h]`` absolute."""
    with tf.name_scope(scope, 'NormalizedToCoco', [boxes, height, width]):
        ymin, xmin, ymax, xmax = _unstack(boxes)
        height, width = _image_size(height, width)
        return tf.stack([xmin * width, ymin * height, (xmax - xmin) * width,
                         (ymax - ymin) * height], axis=-1)


def voc_to_normalized(voc_boxes, height, width, scope=None):
    """VOC 1-based inclusive ``[xmin, ymin, xmax, ymax]`` pixel boxes ``[..., 4]`` -> normalised."""
    with tf.name_scope(scope, 'VocToNormalized', [voc_boxes, height, width]):
        xmin, ymin, xmax, ymax = _unstack(voc_boxes, 'voc_boxes')
        height, width = _image_size(height, width)
        return tf.stack([(ymin - 1.0) / height, (xmin - 1.0) / width, ymax / height,
                         xmax / width], axis=-1)


def normalized_to_voc(boxes, height, width, scope=None):
    """Normalised boxes ``[..., 4]`` -> VOC 1-based inclusive ``[xmin, ymin, xmax, ymax]`` (float)."""
    with tf.name_scope(scope, 'NormalizedToVoc', [boxes, height, width]):
        ymin, xmin, ymax, xmax = _unstack(boxes)
        height, width = _image_size(height, width)
        return tf.stack([xmin * width + 1.0, ymin * height + 1.0, xmax * width,
                         ymax * height], axis=-1)
