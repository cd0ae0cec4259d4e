"""Per-anchor detection losses and example mining (graph ops).

Nothing here normalises or averages: every loss is returned per anchor (``[batch, N]``) and the
model's ``loss()`` applies its masks and divides by its normaliser (SSD: the number of matched
priors, Caffe MultiBoxLoss ``normalization: VALID``).
"""
from tf1zoo.ops import compat  # noqa: F401, I001  (TF 2.21 graph-mode set-up; must precede TF)
import tensorflow.compat.v1 as tf


def smooth_l1(predictions, targets, sigma=1.0, scope=None):
    """Smooth L1 loss summed over the 4 box coordinates.

    Per coordinate, with x = prediction - target: ``0.5 * (sigma * x)^2`` if ``|x| < 1 / sigma^2``,
    else ``|x| - 0.5 / sigma^2``. sigma = 1 is Caffe SSD's SmoothL1 (0.5 x^2 if |x| < 1 else
    |x| - 0.5, MultiBoxLoss ``loc_loss_type: SMOOTH_L1``); py-faster-rcnn's RPN uses sigma = 3.

    Args:
      predictions: float32 ``[batch, N, 4]`` box encodings.
      targets: float32 ``[batch, N, 4]`` encoded targets.
      sigma: positive Python float.

    Returns:
      float32 ``[batch, N]``.
    """
    if not sigma > 0:
        raise ValueError('sigma must be positive, got %r' % (sigma,))
    with tf.name_scope(scope, 'SmoothL1', [predictions, targets]):
        abs_diff = tf.abs(tf.convert_to_tensor(predictions, tf.float32) - targets)
        inverse_sigma_sq = 1.0 / (sigma * sigma)
        per_coord = tf.where(abs_diff < inverse_sigma_sq,
                             0.5 * tf.square(sigma * abs_diff),
                             abs_diff - 0.5 * inverse_sigma_sq)
        return tf.reduce_sum(per_coord, axis=-1)


def softmax_cross_entropy(logits, labels, scope=None):
    """Softmax cross entropy per anchor.

    Args:
      logits: float32 ``[batch, N, num_classes + 1]``, background at index 0.
      labels: int ``[batch, N]`` class ids in ``[0, num_classes]`` (0 = background).

    Returns:
      float32 ``[batch, N]``.
    """
    with tf.name_scope(scope, 'SoftmaxCrossEntropy', [logits, labels]):
        return tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.cast(labels, tf.int32), logits=tf.convert_to_tensor(logits, tf.float32))


def hard_negative_mining(cls_loss, positives, neg_pos_ratio=3.0, candidate_negatives=None,
                         min_negatives=0, scope=None):
    """Picks each image's hardest negatives (Caffe MineHardExamples, mining_type MAX_NEGATIVE).

    Per image, k = min(max(floor(neg_pos_ratio * num_positives), min_negatives), num_candidates)
    candidates with the largest ``cls_loss`` are selected (bbox_util.cpp:
    ``num_sel = std::min(static_cast<int>(num_pos * neg_pos_ratio), num_sel)``). An image without
    positives gets no negatives unless ``min_negatives`` > 0. Equal losses go to the lower index.

    Args:
      cls_loss: float32 ``[batch, N]`` classification loss of each anchor against background
        (as `softmax_cross_entropy` with the targets' labels, which are 0 off the positives).
      positives: bool ``[batch, N]``.
      neg_pos_ratio: Python float (SSD and RefineDet: 3).
      candidate_negatives: bool ``[batch, N]`` anchors allowed as negatives (RefineDet passes the
        anchors its ARM did not filter out, a model with an ignore band excludes ignored anchors);
        None means every anchor that is not positive. Positives are never candidates.
      min_negatives: Python int, the least number of negatives per image (capped by candidates).

    Returns:
      bool ``[batch, N]``: the selected negatives.
    """
    with tf.name_scope(scope, 'HardNegativeMining', [cls_loss, positives, candidate_negatives]):
        cls_loss = tf.stop_gradient(tf.convert_to_tensor(cls_loss, tf.float32))
        candidates = tf.logical_not(positives)
        if candidate_negatives is not None:
            candidates = candidates & candidate_negatives
        num_positives = tf.reduce_sum(tf.cast(positives, tf.float32), axis=1)
        num_candidates = tf.reduce_sum(tf.cast(candidates, tf.int32), axis=1)
        num_negatives = tf.cast(tf.floor(num_positives * neg_pos_ratio), tf.int32)
        num_negatives = tf.minimum(tf.maximum(num_negatives, min_negatives), num_candidates)
        ranks = _descending_ranks(tf.where(candidates, cls_loss,
                                           tf.fill(tf.shape(cls_loss), -float('inf'))))
        return candidates & (ranks < num_negatives[:, None])


def _descending_ranks(values):
    """int32 ``[batch, N]``: each value's position when its row is sorted descending (stable)."""
    order = tf.argsort(values, axis=1, direction='DESCENDING', stable=True)
    return tf.argsort(order, axis=1, stable=True)


def ohem_top_k(loss, k, scope=None):
    """Online hard example mining (R-FCN): the k examples with the largest loss.

    Args:
      loss: float32 ``[N]`` per-example (e.g. per-RoI classification + box) loss.
      k: Python int or int32 scalar; fewer are taken when N < k (R-FCN: 128 RoIs per image).

    Returns:
      indices: int32 ``[min(k, N)]``, by decreasing loss (equal losses: lower index first).
      mask: bool ``[N]``, True at the selected examples.
    """
    with tf.name_scope(scope, 'OhemTopK', [loss, k]):
        loss = tf.stop_gradient(tf.convert_to_tensor(loss, tf.float32))
        num = tf.size(loss)
        _, indices = tf.math.top_k(loss, k=tf.minimum(tf.cast(k, tf.int32), num), sorted=True)
        mask = tf.cast(tf.scatter_nd(indices[:, None], tf.ones_like(indices), [num]), tf.bool)
        return indices, mask


def ohem_select_with_nms(loss, boxes, k, nms_iou=0.7, scope=None):
    """OHEM as its paper (Shrivastava et al. 2016, sec. 4.1) and the R-FCN issue define it: greedy
    NMS among the RoIs by loss (an RoI overlapping a harder one by more than ``nms_iou`` is
    dropped, so that one region is not counted several times), then the ``k`` hardest.

    Args:
      loss: float32 ``[N]`` per-RoI loss (its gradient is not used); boxes: float32 ``[N, 4]``.

    Returns:
      (indices int32 ``[min(k, kept)]`` by decreasing loss, mask bool ``[N]``).
    """
    with tf.name_scope(scope, 'OhemSelectWithNms', [loss, boxes]):
        loss = tf.stop_gradient(tf.convert_to_tensor(loss, tf.float32))
        indices = tf.image.non_max_suppression(tf.stop_gradient(boxes), loss, k, nms_iou)
        mask = tf.scatter_nd(indices[:, None], tf.ones_like(indices), tf.shape(loss))
        return indices, tf.cast(mask, tf.bool)
