"""Training targets of two-stage detectors (Faster R-CNN's RPN, R-FCN's RoIs), as py-faster-rcnn's
``anchor_target_layer.py`` and ``proposal_target_layer.py`` (the R-FCN release uses both) define them.

Labels are int32: 1 (or a class >= 1) foreground, 0 background, -1 ignored. Similarities are IoU
``[num_gt, num_boxes]`` (`box_list_ops.iou`); boxes are normalised ``[ymin, xmin, ymax, xmax]``.
"""
import tensorflow.compat.v1 as tf

IGNORE = -1
# py-faster-rcnn's config.py: RPN_POSITIVE_OVERLAP 0.7, RPN_NEGATIVE_OVERLAP 0.3, RPN_BATCHSIZE
# 256, RPN_FG_FRACTION 0.5; FG_THRESH 0.5; R-FCN's rfcn_end2end_ohem.yml: BG_THRESH_LO 0.0.
RPN_POSITIVE_IOU = 0.7
RPN_NEGATIVE_IOU = 0.3
RPN_BATCH_SIZE = 256
RPN_POSITIVE_FRACTION = 0.5
ROI_FOREGROUND_IOU = 0.5
ROI_BACKGROUND_IOU_LOW = 0.0


def anchor_labels(similarity, inside, positive_iou=RPN_POSITIVE_IOU, negative_iou=RPN_NEGATIVE_IOU):
    """RPN labels of each anchor and the ground truth it regresses to.

    The rules, in py-faster-rcnn's order (RPN_CLOBBER_POSITIVES False): anchors that cross the image
    border are ignored; an inside anchor whose best IoU is below ``negative_iou`` is background;
    then, for each ground truth, every inside anchor with that ground truth's highest IoU (ties
    included; a ground truth no anchor overlaps marks none) is foreground, and so is every inside
    anchor with an IoU of at least ``positive_iou``.

    Args:
      similarity: float32 ``[num_gt, num_anchors]`` IoU.
      inside: bool ``[num_anchors]``, anchors wholly inside the image.

    Returns:
      (labels int32 ``[num_anchors]``, best_gt int32 ``[num_anchors]``: the anchor's highest-IoU
      ground truth, 0 where there is none).
    """
    with tf.name_scope('AnchorLabels'):
        similarity = tf.where(tf.broadcast_to(inside[None, :], tf.shape(similarity)), similarity,
                              tf.fill(tf.shape(similarity), -1.0))
        # Without ground truth, one row of -1: every inside anchor is background.
        safe = tf.cond(tf.shape(similarity)[0] > 0, lambda: similarity,
                       lambda: tf.fill([1, tf.shape(similarity)[1]], -1.0))
        best_iou = tf.reduce_max(safe, axis=0)
        best_gt = tf.argmax(safe, axis=0, output_type=tf.int32)
        gt_best = tf.reduce_max(safe, axis=1, keepdims=True)
        is_gt_best = tf.reduce_any((safe >= gt_best) & (gt_best > 0), axis=0)
        labels = tf.fill(tf.shape(inside), IGNORE)
        labels = tf.where(best_iou < negative_iou, tf.zeros_like(labels), labels)
        labels = tf.where(is_gt_best | (best_iou >= positive_iou), tf.ones_like(labels), labels)
        labels = tf.where(inside, labels, tf.fill(tf.shape(labels), IGNORE))
        return labels, best_gt


def subsample_labels(labels, batch_size=RPN_BATCH_SIZE, positive_fraction=RPN_POSITIVE_FRACTION,
                     seed=None):
    """At most ``batch_size * positive_fraction`` foreground labels, and background up to
    ``batch_size`` in all, chosen uniformly at random; the rest become ignored (py-faster-rcnn's
    ``npr.choice(..., replace=False)`` of the excess)."""
    with tf.name_scope('SubsampleLabels'):
        def keep_random(mask, count):
            indices = tf.random.shuffle(tf.where(mask)[:, 0], seed=seed)[:count]
            return tf.scatter_nd(indices[:, None], tf.ones_like(indices, tf.bool),
                                 tf.shape(mask, out_type=tf.int64))

        positives = keep_random(labels > 0, int(round(batch_size * positive_fraction)))
        num_positives = tf.reduce_sum(tf.cast(positives, tf.int32))
        negatives = keep_random(tf.equal(labels, 0), batch_size - num_positives)
        return tf.where(positives | negatives, labels, tf.fill(tf.shape(labels), IGNORE))


def roi_labels(similarity, gt_classes, foreground_iou=ROI_FOREGROUND_IOU,
               background_low=ROI_BACKGROUND_IOU_LOW):
    """Classes of RoIs for the second stage (R-FCN with OHEM keeps every RoI: BATCH_SIZE -1): the
    class of the highest-IoU ground truth where that IoU >= ``foreground_iou``, background where it
    is in [``background_low``, ``foreground_iou``), ignored below (never with the default 0).

    Returns:
      (classes int32 ``[num_rois]``, best_gt int32 ``[num_rois]``).
    """
    with tf.name_scope('RoiLabels'):
        num_rois = tf.shape(similarity)[1]
        has_gt = tf.shape(similarity)[0] > 0
        safe = tf.cond(has_gt, lambda: similarity, lambda: tf.zeros([1, num_rois]))
        best_iou = tf.reduce_max(safe, axis=0)
        best_gt = tf.argmax(safe, axis=0, output_type=tf.int32)
        classes = tf.cond(has_gt, lambda: tf.gather(tf.cast(gt_classes, tf.int32), best_gt),
                          lambda: tf.zeros([num_rois], tf.int32))
        classes = tf.where(best_iou >= foreground_iou, classes, tf.zeros_like(classes))
        classes = tf.where(best_iou < background_low, tf.fill(tf.shape(classes), IGNORE), classes)
        return classes, best_gt
