"""NumPy box operations for Python-side code: dataset readers and writers, evaluation, results files.

The same box convention as `box_list_ops` (its TensorFlow twin, function for function): a box is
``[ymin, xmin, ymax, xmax]``, float32, normalised to [0, 1] by the image height and width; ``[N, 4]``
per image (every function also accepts any leading shape ``[..., 4]`` unless it says pairwise).

Edge formats, converted here and nowhere else:

* absolute pixels: ``[ymin, xmin, ymax, xmax]`` in continuous pixel coordinates (the normalised box
  times ``[H, W, H, W]``).
* COCO: ``[x, y, w, h]`` absolute, 0-based continuous (``x`` = left edge, ``w`` = width).
* Pascal VOC: ``[xmin, ymin, xmax, ymax]`` 1-based inclusive pixel indices, as in the devkit XML.
  Pixel ``i`` (1-based) covers the continuous interval ``[i - 1, i]``, so the box ``xmin..xmax``
  covers ``[xmin - 1, xmax]``: normalised ``xmin' = (xmin - 1) / W``, ``xmax' = xmax / W``; the exact
  inverse is ``xmin = xmin' * W + 1``, ``xmax = xmax' * W`` (floats; rounding is the writer's choice).
* centre-size: ``[ycenter, xcenter, height, width]``, normalised.
"""
import numpy as np


def _check_boxes(boxes, name='boxes'):
    boxes = np.asarray(boxes, dtype=np.float32)
    if boxes.ndim < 1 or boxes.shape[-1] != 4:
        raise ValueError('%s must have shape [..., 4], got %s' % (name, boxes.shape))
    return boxes


def _check_size(height, width):
    if not (np.all(np.asarray(height) > 0) and np.all(np.asarray(width) > 0)):
        raise ValueError('image height and width must be positive, got %s x %s' % (height, width))


def area(boxes):
    """Areas of ``[..., 4]`` boxes -> float32 ``[...]``; an inverted box (max < min) has area 0."""
    boxes = _check_boxes(boxes)
    heights = np.maximum(boxes[..., 2] - boxes[..., 0], 0.0)
    widths = np.maximum(boxes[..., 3] - boxes[..., 1], 0.0)
    return heights * widths


def intersection(boxes1, boxes2):
    """Pairwise intersection areas of ``[N, 4]`` and ``[M, 4]`` boxes -> float32 ``[N, M]``."""
    boxes1 = _check_boxes(boxes1, 'boxes1').reshape(-1, 4)
    boxes2 = _check_boxes(boxes2, 'boxes2').reshape(-1, 4)
    ymin = np.maximum(boxes1[:, None, 0], boxes2[None, :, 0])
    xmin = np.maximum(boxes1[:, None, 1], boxes2[None, :, 1])
    ymax = np.minimum(boxes1[:, None, 2], boxes2[None, :, 2])
    xmax = np.minimum(boxes1[:, None, 3], boxes2[None, :, 3])
    return np.maximum(ymax - ymin, 0.0) * np.maximum(xmax - xmin, 0.0)


def iou(boxes1, boxes2):
    """Pairwise intersection-over-union of ``[N, 4]`` and ``[M, 4]`` boxes -> float32 ``[N, M]``.

    A pair whose union is empty (two degenerate boxes) has IoU 0, as in Caffe's JaccardOverlap.
    """
    inter = intersection(boxes1, boxes2)
    union = area(boxes1).reshape(-1, 1) + area(boxes2).reshape(1, -1) - inter
    safe_union = np.where(union > 0, union, 1.0)
    return np.where(union > 0, inter / safe_union, 0.0).astype(np.float32)


def corners_to_center_size(boxes):
    """``[..., 4]`` corner boxes -> ``[..., 4]`` ``[ycenter, xcenter, height, width]``."""
    boxes = _check_boxes(boxes)
    ymin, xmin, ymax, xmax = np.moveaxis(boxes, -1, 0)
    return np.stack([(ymin + ymax) / 2, (xmin + xmax) / 2, ymax - ymin, xmax - xmin], axis=-1)


def center_size_to_corners(center_size):
    """``[..., 4]`` ``[ycenter, xcenter, height, width]`` -> ``[..., 4]`` corner boxes."""
    center_size = _check_boxes(center_size, 'center_size')
    ycenter, xcenter, height, width = np.moveaxis(center_size, -1, 0)
    return np.stack([ycenter - height / 2, xcenter - width / 2,
                     ycenter + height / 2, xcenter + width / 2], axis=-1)


def normalized_to_absolute(boxes, height, width):
    """Normalised ``[..., 4]`` boxes -> absolute pixel ``[ymin, xmin, ymax, xmax]`` (float32)."""
    boxes = _check_boxes(boxes)
    _check_size(height, width)
    return boxes * np.array([height, width, height, width], dtype=np.float32)


def absolute_to_normalized(boxes, height, width):
    """Absolute pixel ``[ymin, xmin, ymax, xmax]`` boxes ``[..., 4]`` -> normalised (float32)."""
    boxes = _check_boxes(boxes)
    _check_size(height, width)
    return boxes / np.array([height, width, height, width], dtype=np.float32)


def coco_to_normalized(coco_boxes, height, width):
    """COCO ``[x, y, w, h]`` absolute boxes ``[..., 4]`` -> normalised ``[ymin, xmin, ymax, xmax]``."""
    coco_boxes = _check_boxes(coco_boxes, 'coco_boxes')
    _check_size(height, width)
    x, y, w, h = np.moveaxis(coco_boxes, -1, 0)
    return np.stack([y / height, x / width, (y + h) / height, (x + w) / width],
                    axis=-1).astype(np.float32)


def normalized_to_coco(boxes, height, width):
    """Normalised boxes ``[..., 4]`` -> COCO ``[x, y, w, h]`` absolute (float32)."""
    boxes = _check_boxes(boxes)
    _check_size(height, width)
    ymin, xmin, ymax, xmax = np.moveaxis(boxes, -1, 0)
    return np.stack([xmin * width, ymin * height, (xmax - xmin) * width, (ymax - ymin) * height],
                    axis=-1).astype(np.float32)


def voc_to_normalized(voc_boxes, height, width):
    """VOC 1-based inclusive ``[xmin, ymin, xmax, ymax]`` pixel boxes ``[..., 4]`` -> normalised.

    ``ymin' = (ymin - 1) / H``, ``xmin' = (xmin - 1) / W``, ``ymax' = ymax / H``, ``xmax' = xmax / W``.
    """
    voc_boxes = _check_boxes(voc_boxes, 'voc_boxes')
    _check_size(height, width)
    xmin, ymin, xmax, ymax = np.moveaxis(voc_boxes, -1, 0)
    return np.stack([(ymin - 1) / height, (xmin - 1) / width, ymax / height, xmax / width],
                    axis=-1).astype(np.float32)


def normalized_to_voc(boxes, height, width):
    """Normalised boxes ``[..., 4]`` -> VOC 1-based inclusive ``[xmin, ymin, xmax, ymax]`` (float32).

    The exact inverse of `voc_to_normalized`: ``xmin = xmin' * W + 1``, ``xmax = xmax' * W``.
    """
    boxes = _check_boxes(boxes)
    _check_size(height, width)
    ymin, xmin, ymax, xmax = np.moveaxis(boxes, -1, 0)
    return np.stack([xmin * width + 1, ymin * height + 1, xmax * width, ymax * height],
                    axis=-1).astype(np.float32)
