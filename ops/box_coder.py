"""Centre-size box coder: SSD/Caffe's CENTER_SIZE encoding with variances (Faster R-CNN's deltas).

Boxes and anchors are normalised ``[ymin, xmin, ymax, xmax]`` (see `box_list_ops`). A box
``(yc, xc, h, w)`` relative to an anchor ``(ya, xa, ha, wa)`` is encoded, in the order
``(ty, tx, th, tw)``, as

    ty = (yc - ya) / ha / var_y        tx = (xc - xa) / wa / var_x
    th = log(h / ha) / var_h           tw = log(w / wa) / var_w

which is Caffe's ``EncodeBBox`` with ``encode_variance_in_target: false`` (weiliu89/caffe, branch
ssd, src/caffe/util/bbox_util.cpp). SSD and RefineDet use variances (0.1, 0.1, 0.2, 0.2); Faster
R-CNN / R-FCN express the same thing as scale factors (10, 10, 5, 5) = 1 / variance.

Order: our codes are (ty, tx, th, tw) and our variances (var_y, var_x, var_h, var_w). Caffe's loc
heads emit (tx, ty, tw, th); the Caffe weight converter permutes the head's output channels so that
converted models produce our order. (SSD's variances are symmetric, so their order is moot.)
"""
from tf1zoo.ops import compat  # noqa: F401, I001  (TF 2.21 graph-mode set-up; must precede TF)
import tensorflow.compat.v1 as tf

from tf1zoo.ops import box_list_ops

# SSD's prior variances (ssd_pascal.py: prior_variance = [0.1, 0.1, 0.2, 0.2]).
SSD_VARIANCES = (0.1, 0.1, 0.2, 0.2)

# Heights and widths are floored at this before the log, so that a degenerate box (zero height or
# width, e.g. after cropping) encodes to a large negative but finite th/tw instead of -inf.
# It is far below one pixel of any image this library handles (1e-8 of the image side).
LOG_EPSILON = 1e-8


class CenterSizeBoxCoder:
    """Encodes boxes against anchors and decodes them back; `encode` and `decode` are inverses.

    Construct with ``variances`` (SSD style) or ``scale_factors`` (Faster R-CNN style), not both;
    with neither, SSD's (0.1, 0.1, 0.2, 0.2). Both are ordered (y, x, h, w).
    """

    code_size = 4

    def __init__(self, variances=None, scale_factors=None):
        if variances is not None and scale_factors is not None:
            raise ValueError('Give variances or scale_factors, not both.')
        if scale_factors is not None:
            variances = [1.0 / _positive(s, 'scale_factors') for s in _four(scale_factors)]
        elif variances is None:
            variances = SSD_VARIANCES
        self._variances = tuple(float(_positive(v, 'variances')) for v in _four(variances))

    @property
    def variances(self):
        """The four variances (var_y, var_x, var_h, var_w), Python floats."""
        return self._variances

    @property
    def scale_factors(self):
        """The four scale factors 1 / variance, ordered (y, x, h, w)."""
        return tuple(1.0 / v for v in self._variances)

    def encode(self, boxes, anchors, scope=None):
        """Encodes boxes relative to anchors.

        Args:
          boxes: float32 ``[N, 4]`` or ``[batch, N, 4]`` normalised boxes.
          anchors: float32 ``[N, 4]`` normalised anchors (shared across the batch), or
            ``[batch, N, 4]`` per-image anchors (RefineDet's refined anchors, R-FCN's proposals).

        Returns:
          float32 codes with the shape of ``boxes``, ordered (ty, tx, th, tw).
        """
        with tf.name_scope(scope, 'Encode', [boxes, anchors]):
            yc, xc, h, w = tf.unstack(box_list_ops.corners_to_center_size(boxes), axis=-1)
            ya, xa, ha, wa = tf.unstack(box_list_ops.corners_to_center_size(anchors), axis=-1)
            h, w = tf.maximum(h, LOG_EPSILON), tf.maximum(w, LOG_EPSILON)
            ha, wa = tf.maximum(ha, LOG_EPSILON), tf.maximum(wa, LOG_EPSILON)
            var_y, var_x, var_h, var_w = self._variances
            return tf.stack([(yc - ya) / ha / var_y, (xc - xa) / wa / var_x,
                             tf.log(h / ha) / var_h, tf.log(w / wa) / var_w], axis=-1)

    def decode(self, rel_codes, anchors, scope=None):
        """Decodes codes relative to anchors back to boxes (no clipping, as Caffe's DetectionOutput).

        Args:
          rel_codes: float32 ``[N, 4]`` or ``[batch, N, 4]`` codes ordered (ty, tx, th, tw).
          anchors: float32 ``[N, 4]`` or ``[batch, N, 4]`` normalised anchors.

        Returns:
          float32 normalised ``[ymin, xmin, ymax, xmax]`` boxes with the shape of ``rel_codes``.
        """
        with tf.name_scope(scope, 'Decode', [rel_codes, anchors]):
            ty, tx, th, tw = tf.unstack(tf.convert_to_tensor(rel_codes, tf.float32), axis=-1)
            ya, xa, ha, wa = tf.unstack(box_list_ops.corners_to_center_size(anchors), axis=-1)
            ha, wa = tf.maximum(ha, LOG_EPSILON), tf.maximum(wa, LOG_EPSILON)
            var_y, var_x, var_h, var_w = self._variances
            center_size = tf.stack([ty * var_y * ha + ya, tx * var_x * wa + xa,
                                    tf.exp(th * var_h) * ha, tf.exp(tw * var_w) * wa], axis=-1)
            return box_list_ops.center_size_to_corners(center_size)


def _four(values):
    values = tuple(values)
    if len(values) != 4:
        raise ValueError('Expected four values (y, x, h, w), got %r' % (values,))
    return values


def _positive(value, name):
    if not value > 0:
        raise ValueError('%s must be positive, got %r' % (name, value))
    return value
