"""Anchors (prior boxes) for SSD300, RefineDet320, the R-FCN RPN and YOLO v1's grid.

Every function returns normalised ``[ymin, xmin, ymax, xmax]`` boxes (see `box_list_ops`) in one
``[num_anchors, 4]`` float32 array, in the order the network's heads predict them: cells row-major
(top row first, left to right), the priors of a cell innermost. Prediction heads and anchors must
agree on this order, so the per-layer arrays are concatenated here and never handed out as lists.

The SSD / RefineDet / YOLO anchors depend only on static sizes, so they are computed once in NumPy
at graph-construction time (TF ops accept the arrays as constants). `grid_anchors` builds graph ops
because an RPN's feature map size follows the (possibly dynamic) input size.
"""
from tf1zoo.ops import compat  # noqa: F401, I001  (TF 2.21 graph-mode set-up; must precede TF)
import collections
import math

import numpy as np
import tensorflow.compat.v1 as tf

# Caffe PriorBox treats aspect ratios within this of each other (or of 1) as the same ratio.
_RATIO_TOLERANCE = 1e-6

PriorBoxSpec = collections.namedtuple(
    'PriorBoxSpec',
    ['feature_map_size', 'min_sizes', 'max_sizes', 'aspect_ratios', 'flip', 'step', 'offset',
     'clip'],
    defaults=((), (), True, None, 0.5, False))
PriorBoxSpec.__doc__ = """One Caffe PriorBox layer's parameters (sizes and steps in input pixels).

feature_map_size: (height, width) or an int; min_sizes / max_sizes: a number or a sequence;
the rest as `prior_boxes`.
"""


def _pair(value, name):
    pair = (value, value) if np.isscalar(value) else tuple(value)
    if len(pair) != 2 or not all(v > 0 for v in pair):
        raise ValueError('%s must be a positive number or (height, width), got %r' % (name, value))
    return pair


def _as_list(values):
    if values is None:
        return []
    return [values] if np.isscalar(values) else list(values)


def expand_aspect_ratios(aspect_ratios, flip):
    """Caffe PriorBox's ratio list: [1.0], then each new ratio and, with flip, its reciprocal.

    A ratio within 1e-6 of one already in the list is skipped (prior_box_layer.cpp, LayerSetUp).
    Ratios are width / height.
    """
    expanded = [1.0]
    for ratio in _as_list(aspect_ratios):
        if not ratio > 0:
            raise ValueError('aspect ratios must be positive, got %r' % (ratio,))
        if any(abs(ratio - known) < _RATIO_TOLERANCE for known in expanded):
            continue
        expanded.append(float(ratio))
        if flip:
            expanded.append(1.0 / ratio)
    return expanded


def num_priors_per_cell(min_sizes, max_sizes=(), aspect_ratios=(), flip=True):
    """Number of priors per feature-map cell of a Caffe PriorBox layer (an int)."""
    min_sizes, max_sizes = _checked_sizes(min_sizes, max_sizes)
    return len(min_sizes) * len(expand_aspect_ratios(aspect_ratios, flip)) + len(max_sizes)


def _checked_sizes(min_sizes, max_sizes):
    min_sizes, max_sizes = _as_list(min_sizes), _as_list(max_sizes)
    if not min_sizes or not all(size > 0 for size in min_sizes):
        raise ValueError('PriorBox needs positive min_sizes, got %r' % (min_sizes,))
    if max_sizes and len(max_sizes) != len(min_sizes):
        raise ValueError('PriorBox needs one max_size per min_size, got %r and %r'
                         % (min_sizes, max_sizes))
    if any(max_size <= min_size for min_size, max_size in zip(min_sizes, max_sizes)):
        raise ValueError('every max_size must exceed its min_size, got %r and %r'
                         % (min_sizes, max_sizes))
    return min_sizes, max_sizes


def _cell_prior_sizes(min_sizes, max_sizes, ratios):
    """(width, height) in pixels of one cell's priors, in Caffe's order, float32 [num_priors, 2]."""
    sizes = []
    for index, min_size in enumerate(min_sizes):
        # Caffe stores the sizes in ints ("int min_size_ = min_sizes_[s];"), truncating fractions.
        min_size = int(min_size)
        sizes.append((min_size, min_size))
        if max_sizes:
            side = np.float32(math.sqrt(min_size * int(max_sizes[index])))
            sizes.append((side, side))
        for ratio in ratios:
            if abs(ratio - 1.0) < _RATIO_TOLERANCE:
                continue
            root = np.sqrt(np.float32(ratio))
            sizes.append((min_size * root, min_size / root))
    return np.array(sizes, dtype=np.float32)


def prior_boxes(feature_map_size, image_size, min_sizes, max_sizes=(), aspect_ratios=(),
                flip=True, step=None, offset=0.5, clip=False):
    """Caffe's PriorBox layer (weiliu89/caffe, branch ssd, src/caffe/layers/prior_box_layer.cpp).

    Per cell (row-major) and per min_size: the min_size square, then (with max sizes) the
    sqrt(min_size * max_size) square, then one box per non-1 ratio ar of `expand_aspect_ratios`
    with width min_size * sqrt(ar) and height min_size / sqrt(ar). Cell (i, j) is centred at
    ((i + offset) * step_h, (j + offset) * step_w) pixels. As in Caffe, sizes are truncated to ints,
    centres and sizes are float32, and boxes are clipped to [0, 1] only with ``clip``.

    Args:
      feature_map_size: (height, width) of the source layer, or an int for a square map.
      image_size: (height, width) of the network input in pixels, or an int.
      min_sizes, max_sizes: prior sizes in pixels, numbers or sequences (max_sizes may be empty).
      aspect_ratios: width / height ratios besides 1.
      flip: also add each ratio's reciprocal.
      step: pixels between cell centres, a number or (step_h, step_w); None means
        image_size / feature_map_size.
      offset: centre of cell 0 in cells.
      clip: clip the coordinates to [0, 1].

    Returns:
      float32 ``[height * width * num_priors_per_cell, 4]`` normalised ``[ymin, xmin, ymax, xmax]``
      (Caffe writes xmin, ymin, xmax, ymax; only the coordinate order differs).
    """
    layer_h, layer_w = _pair(feature_map_size, 'feature_map_size')
    image_h, image_w = _pair(image_size, 'image_size')
    if step is None:
        step_h, step_w = np.float32(image_h / layer_h), np.float32(image_w / layer_w)
    else:
        step_h, step_w = (np.float32(s) for s in _pair(step, 'step'))
    min_sizes, max_sizes = _checked_sizes(min_sizes, max_sizes)
    sizes = _cell_prior_sizes(min_sizes, max_sizes, expand_aspect_ratios(aspect_ratios, flip))
    # Caffe: float centre_x = (w + offset_) * step_w; then (centre - size / 2.) / img in double.
    centres_y = ((np.arange(layer_h, dtype=np.float32) + np.float32(offset)) * step_h)
    centres_x = ((np.arange(layer_w, dtype=np.float32) + np.float32(offset)) * step_w)
    cy = centres_y.astype(np.float64)[:, None, None]
    cx = centres_x.astype(np.float64)[None, :, None]
    half_w = sizes[:, 0].astype(np.float64) / 2.0
    half_h = sizes[:, 1].astype(np.float64) / 2.0
    boxes = np.stack(np.broadcast_arrays((cy - half_h) / image_h, (cx - half_w) / image_w,
                                         (cy + half_h) / image_h, (cx + half_w) / image_w),
                     axis=-1)
    boxes = boxes.astype(np.float32).reshape(-1, 4)
    return np.clip(boxes, 0.0, 1.0) if clip else boxes


class MultiscaleAnchors:
    """The priors of several PriorBox layers, concatenated in the order of the heads' outputs.

    Args:
      specs: sequence of `PriorBoxSpec`, one per prediction layer, in head order.
      image_size: (height, width) of the network input in pixels, or an int.
    """

    def __init__(self, specs, image_size):
        if not specs:
            raise ValueError('MultiscaleAnchors needs at least one PriorBoxSpec.')
        self._specs = tuple(PriorBoxSpec(*spec) for spec in specs)
        self._image_size = _pair(image_size, 'image_size')

    @property
    def specs(self):
        return self._specs

    def num_anchors_per_location(self):
        """List of ints: priors per cell of each layer (the heads' output depth / code size)."""
        return [num_priors_per_cell(s.min_sizes, s.max_sizes, s.aspect_ratios, s.flip)
                for s in self._specs]

    def num_anchors(self):
        """Total number of anchors (an int), e.g. 8732 for SSD300."""
        return sum(int(np.prod(_pair(s.feature_map_size, 'feature_map_size'))) * per_cell
                   for s, per_cell in zip(self._specs, self.num_anchors_per_location()))

    def generate(self):
        """float32 ``[num_anchors, 4]`` normalised anchors, layer by layer."""
        return np.concatenate([
            prior_boxes(s.feature_map_size, self._image_size, s.min_sizes, s.max_sizes,
                        s.aspect_ratios, s.flip, s.step, s.offset, s.clip)
            for s in self._specs], axis=0)


# RefineDet (Zhang et al. 2018, sfzhang15/RefineDet examples/refinedet/VGG16_VOC2007_320.py):
# ARM sources conv4_3, conv5_3, fc7, conv6_2 at strides 8..64, one square anchor 4x the stride
# plus aspect ratio 2 flipped: 3 anchors per cell.
REFINEDET_STEPS = (8, 16, 32, 64)
REFINEDET_ANCHOR_SCALE = 4
REFINEDET_ASPECT_RATIOS = (2.0,)


def refinedet_prior_box_specs(image_size=320, steps=REFINEDET_STEPS):
    """RefineDet's PriorBoxSpecs: min size 4 x step, ratios 0.5/1/2, feature map image / step.

    Raises:
      ValueError: if a step does not divide the image size.
    """
    image_h, image_w = _pair(image_size, 'image_size')
    specs = []
    for step in steps:
        if image_h % step or image_w % step:
            raise ValueError('RefineDet step %r does not divide the image size %r'
                             % (step, image_size))
        specs.append(PriorBoxSpec(
            feature_map_size=(image_h // step, image_w // step),
            min_sizes=REFINEDET_ANCHOR_SCALE * step, aspect_ratios=REFINEDET_ASPECT_RATIOS,
            flip=True, step=step))
    return specs


def refinedet_anchors(image_size=320, steps=REFINEDET_STEPS):
    """RefineDet's ARM anchors, float32 ``[num_anchors, 4]`` (6375 at 320 x 320)."""
    return MultiscaleAnchors(refinedet_prior_box_specs(image_size, steps), image_size).generate()


def grid_anchors(feature_map_size, image_size, scales=(0.5, 1.0, 2.0),
                 aspect_ratios=(0.5, 1.0, 2.0), base_size=256, stride=16, offset=0.5, scope=None):
    """RPN anchors (Faster R-CNN / R-FCN): every scale x ratio around each cell centre.

    An anchor of scale s and ratio r (width / height) has height s * base_size / sqrt(r) and width
    s * base_size * sqrt(r) pixels; with the defaults: areas 128^2, 256^2, 512^2 and ratios
    1:2, 1:1, 2:1, as in the R-FCN paper. Cell (i, j) is centred at ((i + offset) * stride,
    (j + offset) * stride) pixels. Order: cells row-major, then ratios, then scales innermost (as
    py-faster-rcnn's generate_anchors). Anchors are not clipped.

    Args:
      feature_map_size: (height, width), Python ints or int32 scalar tensors.
      image_size: (height, width) of the input in pixels, Python numbers or scalar tensors.
      scales, aspect_ratios, base_size, stride, offset: Python numbers as described above.

    Returns:
      float32 tensor ``[height * width * len(scales) * len(aspect_ratios), 4]``, normalised.
    """
    with tf.name_scope(scope, 'GridAnchors'):
        ratios, anchor_scales = np.meshgrid(np.asarray(aspect_ratios, np.float32),
                                            np.asarray(scales, np.float32), indexing='ij')
        heights = (anchor_scales * base_size / np.sqrt(ratios)).reshape(-1)
        widths = (anchor_scales * base_size * np.sqrt(ratios)).reshape(-1)
        image_h, image_w = (tf.cast(v, tf.float32) for v in image_size)
        centres_y, centres_x = ((tf.cast(tf.range(size), tf.float32) + offset) * stride
                                for size in feature_map_size)
        cy, cx = (c[..., None] for c in tf.meshgrid(centres_y, centres_x, indexing='ij'))
        boxes = tf.stack([cy - heights / 2.0, cx - widths / 2.0,
                          cy + heights / 2.0, cx + widths / 2.0], axis=-1)
        boxes = boxes / tf.stack([image_h, image_w, image_h, image_w])
        return tf.reshape(boxes, [-1, 4])


def yolo_grid(grid_size=7):
    """YOLO v1's S x S cells as boxes, float32 ``[S * S, 4]`` normalised, row-major.

    Cell (i, j) (row i, column j) is ``[i / S, j / S, (i + 1) / S, (j + 1) / S]``.
    """
    if not (isinstance(grid_size, (int, np.integer)) and grid_size > 0):
        raise ValueError('grid_size must be a positive int, got %r' % (grid_size,))
    edges = np.arange(grid_size + 1, dtype=np.float64) / grid_size
    rows, cols = np.meshgrid(np.arange(grid_size), np.arange(grid_size), indexing='ij')
    boxes = np.stack([edges[rows], edges[cols], edges[rows + 1], edges[cols + 1]], axis=-1)
    return boxes.reshape(-1, 4).astype(np.float32)
