"""Training targets per anchor: match ground truth to anchors, then label and encode.

Boxes are normalised ``[ymin, xmin, ymax, xmax]`` (see `box_list_ops`); class ids are 1-based with 0
the background. For every anchor:

* positive (matched): class target = the matched box's class, regression target = the matched
  box encoded by the box coder relative to the anchor;
* negative (UNMATCHED): class target 0, regression target zeros;
* ignored (IGNORED): class target 0, regression target zeros, and the loss must skip it.

`assign` handles one image; `batch_assign` a padded batch with a different number of boxes per
image (rows past ``num_gt`` are padding and never matched).
"""
from tf1zoo.ops import compat  # noqa: F401, I001  (TF 2.21 graph-mode set-up; must precede TF)
import collections

import tensorflow.compat.v1 as tf

from tf1zoo.ops import box_list_ops

Targets = collections.namedtuple(
    'Targets', ['cls_targets', 'reg_targets', 'positives', 'ignored', 'matches'])
Targets.__doc__ = """Per-anchor targets; shapes for one image (`batch_assign` adds a batch dim).

cls_targets: int32 [N], 1-based class of the matched box, 0 for negative and ignored anchors.
reg_targets: float32 [N, 4], encoded (ty, tx, th, tw); zeros where not positive.
positives: bool [N], matched anchors.
ignored: bool [N], anchors in the matcher's ignore band (excluded from both losses).
matches: int32 [N], the raw match result (gt index, -1 unmatched, -2 ignored).
"""


def assign(anchors, gt_boxes, gt_labels, matcher, box_coder,
           similarity_fn=box_list_ops.iou, scope=None):
    """Assigns classification and regression targets to the anchors of one image.

    Args:
      anchors: float32 ``[N, 4]`` normalised anchors.
      gt_boxes: float32 ``[M, 4]`` normalised ground-truth boxes; M may be 0 at run time.
      gt_labels: int ``[M]`` 1-based class ids (all ones for a class-agnostic stage such as
        RefineDet's ARM or an RPN).
      matcher: a `matcher.Matcher`.
      box_coder: a `box_coder.CenterSizeBoxCoder`.
      similarity_fn: ``(gt_boxes [M, 4], anchors [N, 4]) -> [M, N]``; IoU by default.

    Returns:
      `Targets` for the N anchors.
    """
    with tf.name_scope(scope, 'Assign', [anchors, gt_boxes, gt_labels]):
        anchors = tf.convert_to_tensor(anchors, tf.float32)
        gt_boxes = tf.convert_to_tensor(gt_boxes, tf.float32)
        gt_labels = tf.cast(gt_labels, tf.int32)
        match = matcher.match(similarity_fn(gt_boxes, anchors))
        positives = match.matched_column_indicator()
        # Unmatched and ignored anchors take an arbitrary box to encode (the anchor itself, a
        # zero code); the positive mask below zeroes them in any case.
        matched_boxes = tf.where(positives, match.gather_based_on_match(
            gt_boxes, tf.zeros([4]), tf.zeros([4])), anchors)
        reg_targets = box_coder.encode(matched_boxes, anchors)
        reg_targets = tf.where(positives, reg_targets, tf.zeros_like(reg_targets))
        cls_targets = match.gather_based_on_match(gt_labels, 0, 0)
        return Targets(cls_targets=cls_targets, reg_targets=reg_targets, positives=positives,
                       ignored=match.ignored_column_indicator(), matches=match.match_results)


def batch_assign(anchors, gt_boxes, gt_labels, num_gt, matcher, box_coder,
                 similarity_fn=box_list_ops.iou, scope=None):
    """`assign` over a padded batch (tf.map_fn), one image at a time.

    Args:
      anchors: float32 ``[N, 4]`` shared anchors, or ``[batch, N, 4]`` per-image anchors
        (RefineDet's ODM uses the ARM-refined anchors; R-FCN's second stage its proposals).
      gt_boxes: float32 ``[batch, max_num_gt, 4]``, padded.
      gt_labels: int ``[batch, max_num_gt]``, padded.
      num_gt: int ``[batch]``, the number of real boxes of each image.
      matcher, box_coder, similarity_fn: as `assign`.

    Returns:
      `Targets` with a leading batch dimension: cls_targets int32 ``[batch, N]``, reg_targets
      float32 ``[batch, N, 4]``, positives / ignored bool ``[batch, N]``, matches int32
      ``[batch, N]``.
    """
    with tf.name_scope(scope, 'BatchAssign', [anchors, gt_boxes, gt_labels, num_gt]):
        # Targets are constants for the losses, even where anchors are predictions (RefineDet).
        anchors = tf.stop_gradient(tf.convert_to_tensor(anchors, tf.float32))
        per_image_anchors = anchors.shape.rank == 3
        elems = (tf.convert_to_tensor(gt_boxes, tf.float32), tf.cast(gt_labels, tf.int32),
                 tf.cast(num_gt, tf.int32))
        if per_image_anchors:
            elems += (anchors,)

        def assign_one(args):
            boxes, labels, count = args[:3]
            image_anchors = args[3] if per_image_anchors else anchors
            targets = assign(image_anchors, boxes[:count], labels[:count], matcher, box_coder,
                             similarity_fn)
            return tuple(targets)

        num_anchors = anchors.shape[-2]
        signature = (tf.TensorSpec([num_anchors], tf.int32),
                     tf.TensorSpec([num_anchors, 4], tf.float32),
                     tf.TensorSpec([num_anchors], tf.bool),
                     tf.TensorSpec([num_anchors], tf.bool),
                     tf.TensorSpec([num_anchors], tf.int32))
        outputs = tf.map_fn(assign_one, elems, fn_output_signature=signature)
        return Targets(*outputs)
