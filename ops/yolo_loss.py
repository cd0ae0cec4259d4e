"""YOLO v1's sum-squared loss, the paper's Eq. (3), with darknet's choice of the responsible predictor.

For an S x S grid with B predictors per cell and C classes (Redmon et al. 2016, sec. 2.2):

    coord * sum_{i,j} 1obj_ij [(x_i - x^_i)^2 + (y_i - y^_i)^2 + (sqrt w_i - sqrt w^_i)^2
                               + (sqrt h_i - sqrt h^_i)^2]
  + obj * sum_{i,j} 1obj_ij (C_i - C^_i)^2  +  noobj * sum_{i,j} 1noobj_ij (C_i - C^_i)^2
  + class * sum_i 1obj_i sum_c (p_i(c) - p^_i(c))^2

with coord = 5, noobj = 0.5 and obj = class = 1 (the cfgs' ``coord_scale``, ``noobject_scale``,
``object_scale``, ``class_scale``), summed over the batch and divided by its size. The rules are
darknet's detection layer (pjreddie/darknet, src/detection_layer.c, ``forward_detection_layer``, and
``fill_truth_region`` in src/data.c):

* A ground-truth box belongs to the cell holding its centre (``ops.yolo_box_coder``); a box narrower
  or lower than 0.005 of the image is ignored, and a cell holds one object: the first listed
  (darknet shuffles the list first; the input pipeline's order stands in for that).
* Of the cell's B predictors the responsible one (``1obj_ij``) is the one whose box has the highest
  IoU with the ground truth; when none overlaps it, the one with the least RMSE between the boxes
  (x, y as cell offsets over S, w and h as image fractions). Ties keep the first.
* The responsible predictor's confidence target is that IoU (``rescore=1``; a constant, no gradient
  flows through it), or 1 without rescoring; every other predictor's target is 0 (``1noobj_ij``).
* Class probabilities and box codes are penalised only in cells with an object, the codes only for
  the responsible predictor, against the coder's targets (offsets, square-root sizes).

Predictions are raw linear outputs (YOLO v1 applies no sigmoid or softmax). Shapes: ``class_probs``
float32 ``[batch, S * S, C]``, ``confidences`` ``[batch, S * S, B]``, ``box_codes``
``[batch, S * S, B, 4]`` in the coder's ``(x, y, w, h)``; ground truth as the input pipeline pads it.
"""
from tf1zoo.ops import compat  # noqa: F401, I001  (TF 2.21 graph-mode set-up; must precede TF)
import collections

import tensorflow.compat.v1 as tf

from tf1zoo.ops import box_list_ops

# The published cfgs' [detection] scales (yolov1.cfg, yolo-2015.cfg) and the paper's lambdas.
COORD_SCALE = 5.0
OBJECT_SCALE = 1.0
NOOBJECT_SCALE = 0.5
CLASS_SCALE = 1.0
# fill_truth_region: `if (w < .005 || h < .005) continue;`
MIN_BOX_SIZE = 0.005
# The RMSE darknet starts its search from (best_rmse = 20): larger than any two unit boxes give.
_INITIAL_RMSE = 20.0

Targets = collections.namedtuple('Targets', [
    'has_object', 'class_targets', 'code_targets', 'responsible', 'iou'])
Targets.__doc__ = """What `assign_targets` gives, per image and cell.

has_object: float32 ``[batch, S * S]``, 1 where a ground truth's centre lies.
class_targets: float32 ``[batch, S * S, C]`` one-hot (zeros in empty cells).
code_targets: float32 ``[batch, S * S, 4]`` the ground truth's codes (zeros in empty cells).
responsible: float32 ``[batch, S * S, B]`` one-hot of the responsible predictor (zeros in empty cells).
iou: float32 ``[batch, S * S, B]`` each predictor's IoU with its cell's ground truth.
"""

YoloLosses = collections.namedtuple('YoloLosses', [
    'coordinate_loss', 'object_loss', 'noobject_loss', 'class_loss', 'num_objects'])


def _first_object_per_cell(cells, valid, num_cells):
    """float32 ``[batch, M, S * S]``: 1 where ground truth m is the first valid one of its cell."""
    in_cell = tf.one_hot(cells, num_cells) * tf.cast(valid, tf.float32)[:, :, None]
    return in_cell * tf.cast(tf.equal(tf.cumsum(in_cell, axis=1), 1.0), tf.float32)


def _darknet_rmse(pred_codes, pred_boxes, target_codes, target_boxes, grid_size):
    """RMSE of darknet's ``box_rmse`` between the boxes as its detection layer sees them: centres as
    cell offsets over S (the cell's corner cancels), sizes as image fractions."""
    offset = (pred_codes[..., :2] - target_codes[..., None, :2]) / float(grid_size)
    pred_sizes = box_list_ops.corners_to_center_size(pred_boxes)[..., 2:]
    target_sizes = box_list_ops.corners_to_center_size(target_boxes)[..., None, 2:]
    return tf.sqrt(tf.reduce_sum(tf.square(offset), -1)
                   + tf.reduce_sum(tf.square(pred_sizes - target_sizes), -1))


def _responsible_predictor(iou, rmse):
    """One-hot ``[..., B]``: darknet's sequential search (highest IoU once any overlaps, else
    least RMSE; strict comparisons, so ties keep the first)."""
    num_predictors = iou.shape[-1]
    best_index = tf.fill(tf.shape(iou)[:-1], -1)
    best_iou = tf.zeros(tf.shape(iou)[:-1])
    best_rmse = tf.fill(tf.shape(iou)[:-1], _INITIAL_RMSE)
    for j in range(num_predictors):
        iou_j, rmse_j = iou[..., j], rmse[..., j]
        by_iou = tf.logical_or(best_iou > 0.0, iou_j > 0.0)
        take = tf.where(by_iou, iou_j > best_iou, rmse_j < best_rmse)
        best_index = tf.where(take, tf.fill(tf.shape(best_index), j), best_index)
        best_iou = tf.where(take & by_iou, iou_j, best_iou)
        best_rmse = tf.where(take & ~by_iou, rmse_j, best_rmse)
    return tf.one_hot(best_index, num_predictors)


def assign_targets(box_codes, groundtruth_boxes, groundtruth_classes, num_groundtruth_boxes, coder,
                   num_classes, scope=None):
    """The cells' targets and responsible predictors (see the module docstring).

    Args:
      box_codes: float32 ``[batch, S * S, B, 4]`` predicted codes.
      groundtruth_boxes: float32 ``[batch, M, 4]`` normalised ``[ymin, xmin, ymax, xmax]``.
      groundtruth_classes: int32 ``[batch, M]`` 1-based classes (0 is padding).
      num_groundtruth_boxes: int32 ``[batch]`` real boxes per image.
      coder: a `yolo_box_coder.GridBoxCoder`.
      num_classes: C, the classes without a background.

    Returns:
      `Targets`.
    """
    with tf.name_scope(scope, 'YoloTargets'):
        sizes = box_list_ops.corners_to_center_size(groundtruth_boxes)[..., 2:]
        real = tf.sequence_mask(num_groundtruth_boxes, tf.shape(groundtruth_boxes)[1])
        valid = real & tf.reduce_all(sizes >= MIN_BOX_SIZE, axis=-1)
        cells, codes = coder.encode(groundtruth_boxes)
        owner = _first_object_per_cell(cells, valid, coder.num_cells)        # [batch, M, S*S]
        has_object = tf.reduce_max(owner, axis=1)
        class_targets = tf.einsum('bmn,bmc->bnc', owner,
                                  tf.one_hot(groundtruth_classes - 1, num_classes))
        code_targets = tf.einsum('bmn,bmk->bnk', owner, codes)
        box_targets = tf.einsum('bmn,bmk->bnk', owner, groundtruth_boxes)
        pred_boxes = coder.decode(box_codes)                                  # [batch, S*S, B, 4]
        repeated_targets = tf.broadcast_to(box_targets[:, :, None, :], tf.shape(pred_boxes))
        iou = tf.reshape(box_list_ops.matched_iou(tf.reshape(pred_boxes, [-1, 4]),
                                                  tf.reshape(repeated_targets, [-1, 4])),
                         tf.shape(pred_boxes)[:-1])
        rmse = _darknet_rmse(box_codes, pred_boxes, code_targets, box_targets, coder.grid_size)
        responsible = _responsible_predictor(iou, rmse) * has_object[:, :, None]
        return Targets(has_object, class_targets, code_targets, responsible, iou)


def yolo_v1_loss(class_probs, confidences, box_codes, groundtruth_boxes, groundtruth_classes,
                 num_groundtruth_boxes, coder, coord_scale=COORD_SCALE, object_scale=OBJECT_SCALE,
                 noobject_scale=NOOBJECT_SCALE, class_scale=CLASS_SCALE, rescore=True, scope=None):
    """Eq. (3), term by term, summed over the batch and divided by the batch size.

    Returns:
      `YoloLosses` of float32 scalars (``num_objects``: the objects assigned to cells, over the batch).
    """
    with tf.name_scope(scope, 'YoloV1Loss'):
        targets = assign_targets(box_codes, groundtruth_boxes, groundtruth_classes,
                                 num_groundtruth_boxes, coder, class_probs.shape[-1])
        batch_size = tf.cast(tf.shape(class_probs)[0], tf.float32)
        responsible = targets.responsible
        confidence_targets = tf.stop_gradient(targets.iou) if rescore else tf.ones_like(confidences)
        coordinate = tf.reduce_sum(responsible[..., None] * tf.square(
            box_codes - targets.code_targets[:, :, None, :]))
        objects = tf.reduce_sum(responsible * tf.square(confidence_targets - confidences))
        no_objects = tf.reduce_sum((1.0 - responsible) * tf.square(confidences))
        classes = tf.reduce_sum(targets.has_object[..., None]
                                * tf.square(targets.class_targets - class_probs))
        return YoloLosses(coordinate_loss=coord_scale * coordinate / batch_size,
                          object_loss=object_scale * objects / batch_size,
                          noobject_loss=noobject_scale * no_objects / batch_size,
                          class_loss=class_scale * classes / batch_size,
                          num_objects=tf.reduce_sum(targets.has_object))
