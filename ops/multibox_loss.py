"""MultiBox loss (Liu et al. 2016, eq. 1-3; Caffe ``MultiBoxLossLayer``), shared by SSD and RefineDet.

For a batch of images with their anchors (priors):

1. targets: each ground truth takes its best anchor, then every free anchor takes its best ground
   truth with IoU >= the match threshold (`matcher.Matcher`); matched boxes are encoded against the
   anchors (`box_coder.CenterSizeBoxCoder`);
2. hard negative mining: per image, the ``neg_pos_ratio`` x (number of positives) unmatched anchors
   with the largest background cross-entropy (`losses.hard_negative_mining`);
3. loss = (sum of softmax cross-entropy over positives and mined negatives
   + alpha * sum of smooth L1 over positives) / N, with N the number of positives in the whole
   batch (Caffe ``normalization: VALID``) floored at 1, so a batch without any ground truth gives
   a finite loss (only its mined negatives, none when ``min_negatives`` is 0).

Boxes are normalised ``[ymin, xmin, ymax, xmax]``; class 0 is the background.
"""
import collections

import tensorflow.compat.v1 as tf

from tf1zoo.ops import losses, target_assigner

MultiboxLoss = collections.namedtuple(
    'MultiboxLoss', ['localization_loss', 'classification_loss', 'num_positives', 'targets'])
MultiboxLoss.__doc__ = """The two normalised scalar losses, the positive count and the targets.

localization_loss: float32 scalar, alpha * smooth L1 over positives / N.
classification_loss: float32 scalar, cross-entropy over positives and mined negatives / N.
num_positives: float32 scalar, matched anchors in the batch (before flooring at 1).
targets: the `target_assigner.Targets` of the batch (``[batch, num_anchors, ...]``).
"""

# ssd_pascal.py multibox_loss_param: loc_weight (alpha) 1, neg_pos_ratio 3, overlap_threshold 0.5.
SSD_LOC_WEIGHT = 1.0
SSD_NEG_POS_RATIO = 3.0
SSD_MATCH_THRESHOLD = 0.5


def multibox_loss(box_encodings, class_logits, anchors, groundtruth_boxes, groundtruth_classes,
                  num_groundtruth_boxes, matcher, box_coder, neg_pos_ratio=SSD_NEG_POS_RATIO,
                  loc_weight=SSD_LOC_WEIGHT, candidate_negatives=None, min_negatives=0, scope=None):
    """The MultiBox loss of a batch.

    Args:
      box_encodings: float32 ``[batch, num_anchors, 4]`` predicted (ty, tx, th, tw).
      class_logits: float32 ``[batch, num_anchors, num_classes + 1]``, background at 0 (2 classes
        for a class-agnostic stage such as RefineDet's ARM).
      anchors: float32 ``[num_anchors, 4]`` shared, or ``[batch, num_anchors, 4]`` per image
        (RefineDet's ODM matches against ARM-refined anchors).
      groundtruth_boxes: float32 ``[batch, max_num_boxes, 4]``, padded.
      groundtruth_classes: int ``[batch, max_num_boxes]`` 1-based classes, padded.
      num_groundtruth_boxes: int ``[batch]`` real boxes per image.
      matcher: a `matcher.Matcher`.
      box_coder: a `box_coder.CenterSizeBoxCoder`.
      neg_pos_ratio: negatives mined per positive.
      loc_weight: alpha, the weight of the localisation term.
      candidate_negatives: optional bool ``[batch, num_anchors]``, the anchors allowed as
        negatives (RefineDet keeps the anchors its ARM filtered out of mining).
      min_negatives: least number of mined negatives per image.

    Returns:
      a `MultiboxLoss`.
    """
    with tf.name_scope(scope, 'MultiboxLoss'):
        targets = target_assigner.batch_assign(anchors, groundtruth_boxes, groundtruth_classes,
                                               num_groundtruth_boxes, matcher, box_coder)
        positives = targets.positives
        if candidate_negatives is None:
            candidate_negatives = tf.logical_not(targets.ignored)
        else:
            candidate_negatives &= tf.logical_not(targets.ignored)
        cls_losses = losses.softmax_cross_entropy(class_logits, targets.cls_targets)
        negatives = losses.hard_negative_mining(cls_losses, positives, neg_pos_ratio,
                                                candidate_negatives, min_negatives)
        loc_losses = losses.smooth_l1(box_encodings, targets.reg_targets)
        num_positives = tf.reduce_sum(tf.cast(positives, tf.float32))
        normaliser = tf.maximum(num_positives, 1.0)
        localization = loc_weight * _masked_sum(loc_losses, positives) / normaliser
        classification = _masked_sum(cls_losses, positives | negatives) / normaliser
        return MultiboxLoss(localization, classification, num_positives, targets)


def _masked_sum(values, mask):
    return tf.reduce_sum(tf.where(mask, values, tf.zeros_like(values)))
