"""R-FCN as a detector: RPN, proposals, position-sensitive pooling, OHEM, behind the common API.

`RfcnDetector` has the ``predict / loss / postprocess`` methods of every detector here (see
`single_shot_detector.SingleShotDetector`), for one image per step of any size (the paper trains
on one image, shorter side 600): images ``[1, height, width, 3]`` in [-1, 1]; boxes normalised
``[ymin, xmin, ymax, xmax]``; ``num_classes`` counts the background (class 0).

``predict`` runs the fully convolutional net (`rfcn_inception_resnet`). ``loss`` builds the RPN's
targets and loss, the proposals (no gradient through them, as py-faster-rcnn's proposal layer)
with the ground-truth boxes appended, their classes, the per-RoI loss, and OHEM's selection.
``postprocess`` pools the test proposals and applies per-class NMS. Box codes of the second stage
are scaled by (10, 10, 5, 5) (py-faster-rcnn's BBOX_NORMALIZE_STDS 0.1, 0.1, 0.2, 0.2).
"""
import dataclasses

import tensorflow.compat.v1 as tf

from tf1zoo.nets import inception_resnet_v2, rfcn_inception_resnet
from tf1zoo.ops import (
    anchor_generator,
    box_coder,
    box_list_ops,
    losses,
    post_processing,
    proposal_generator,
    ps_roi_pooling,
    region_targets,
    standard_fields,
)

fields = standard_fields.InputDataFields
ROI_BOX_CODER = box_coder.CenterSizeBoxCoder(scale_factors=(10.0, 10.0, 5.0, 5.0))
# py-faster-rcnn: the RPN's smooth L1 uses sigma 3 (rpn_loss_bbox), the second stage's sigma 1.
RPN_SMOOTH_L1_SIGMA = 3.0
# The paper: B = 128 RoIs per image backpropagated; per-class NMS 0.3 at test (py-faster-rcnn's
# TEST.NMS); 100 detections per image (COCO's maxDets).
OHEM_BATCH_SIZE = 128
OHEM_NMS_IOU = 0.7
POSTPROCESS_DEFAULTS = {'score_threshold': 0.001, 'iou_threshold': 0.3, 'top_k_per_class': 300,
                        'keep_top_k': 100}


@dataclasses.dataclass(frozen=True)
class ProposalSettings:
    """Proposals in training and at test (R-FCN's rfcn_end2end_ohem.yml: 6000 -> NMS 0.7 -> 300)."""

    pre_nms_top_n: int = proposal_generator.PRE_NMS_TOP_N
    post_nms_top_n: int = proposal_generator.POST_NMS_TOP_N
    nms_iou: float = proposal_generator.NMS_IOU
    min_size: float = proposal_generator.MIN_SIZE


class RfcnDetector:
    """R-FCN's training and inference graph.

    Args:
      num_classes: classes including the background (21 for VOC, 81 for COCO).
      k: bins per side (7: the paper; 3: the seed port).
      depth_multiplier, repeats: thin the backbone (tests).
      weight_decay: the paper's 5e-4 on the new layers and the backbone.
      train_proposals, test_proposals: `ProposalSettings`.
      ohem_batch_size, ohem_nms_iou: OHEM's B and its NMS among RoIs by loss.
      postprocess_defaults: `post_processing.multiclass_nms` arguments.
      anchor_base_size: anchors of 0.5, 1 and 2 times this side in pixels (the paper's 256:
        128, 256, 512), at ratios 1:2, 1:1, 2:1.
      seed: of the RPN's random 256-anchor sample.
      train_batch_norm: the backbone's batch norm on batch statistics in training (its beta
        trained, moving averages at test) instead of frozen: for a backbone trained from scratch,
        where frozen statistics are those of no data (the release fine-tunes ImageNet weights).
    """

    def __init__(self, num_classes, k=rfcn_inception_resnet.DEFAULT_K, depth_multiplier=1.0,
                 repeats=inception_resnet_v2.DEFAULT_REPEATS, weight_decay=0.0005,
                 train_proposals=ProposalSettings(), test_proposals=ProposalSettings(),
                 ohem_batch_size=OHEM_BATCH_SIZE, ohem_nms_iou=OHEM_NMS_IOU,
                 postprocess_defaults=None, anchor_base_size=256, seed=None, train_batch_norm=False):
        self.num_classes = num_classes
        self.k = k
        self._depth_multiplier = depth_multiplier
        self._repeats = tuple(repeats)
        self._weight_decay = weight_decay
        self.train_proposals, self.test_proposals = train_proposals, test_proposals
        self.ohem_batch_size, self.ohem_nms_iou = ohem_batch_size, ohem_nms_iou
        self.postprocess_defaults = dict(POSTPROCESS_DEFAULTS, **(postprocess_defaults or {}))
        self._seed = seed
        self.anchor_base_size = anchor_base_size
        self._train_batch_norm = train_batch_norm

    def predict(self, images, is_training):
        """Runs the net on ``[1, height, width, 3]`` images.

        Returns:
          dict with ``objectness`` ``[A, 2]`` logits, ``box_codes`` ``[A, 4]``, ``anchors``
          ``[A, 4]`` (A = h * w * 9, cell-major), ``class_maps``, ``box_maps`` and
          ``image_shape`` (height, width); and the net's end_points.
        """
        # Batch norm stays frozen unless train_batch_norm (then in training only); no dropout.
        _, end_points = rfcn_inception_resnet.rfcn_inception_resnet(
            images, self.num_classes, k=self.k, depth_multiplier=self._depth_multiplier,
            repeats=self._repeats, weight_decay=self._weight_decay,
            train_batch_norm=bool(self._train_batch_norm and is_training))
        image_shape = (tf.shape(images)[1], tf.shape(images)[2])
        map_shape = tf.shape(end_points['objectness'])
        anchors = anchor_generator.grid_anchors((map_shape[1], map_shape[2]), image_shape,
                                                base_size=self.anchor_base_size,
                                                stride=rfcn_inception_resnet.FEATURE_STRIDE)
        predictions = {'objectness': tf.reshape(end_points['objectness'], [-1, 2]),
                       'box_codes': tf.reshape(end_points['box_codes'], [-1, 4]),
                       'anchors': anchors, 'class_maps': end_points['class_maps'],
                       'box_maps': end_points['box_maps'], 'image_shape': image_shape}
        return predictions, end_points

    def proposals(self, predictions, settings):
        """(boxes ``[P, 4]``, scores ``[P]``) of the image, without gradients."""
        objectness = tf.nn.softmax(tf.stop_gradient(predictions['objectness']))[:, 1]
        return proposal_generator.generate_proposals(
            predictions['anchors'], objectness, tf.stop_gradient(predictions['box_codes']),
            predictions['image_shape'], settings.pre_nms_top_n, settings.post_nms_top_n,
            settings.nms_iou, settings.min_size)

    def pool_rois(self, predictions, rois):
        """(class logits ``[R, num_classes]``, box codes ``[R, 4]``): Eq. (1)'s pooling and voting."""
        def pooled(maps, dim):
            bins = ps_roi_pooling.position_sensitive_roi_pool(
                maps, rois, tf.zeros([tf.shape(rois)[0]], tf.int32), predictions['image_shape'],
                self.k, dim, 1.0 / rfcn_inception_resnet.FEATURE_STRIDE)
            return ps_roi_pooling.vote(bins)
        return pooled(predictions['class_maps'], self.num_classes), pooled(predictions['box_maps'], 4)

    def _rpn_loss(self, predictions, gt_boxes):
        anchors = predictions['anchors']
        inside = tf.reduce_all((anchors >= 0.0) & (anchors <= 1.0), axis=1)
        labels, best_gt = region_targets.anchor_labels(box_list_ops.iou(gt_boxes, anchors), inside)
        labels = region_targets.subsample_labels(labels, seed=self._seed)
        sampled = labels >= 0
        num_sampled = tf.maximum(tf.reduce_sum(tf.cast(sampled, tf.float32)), 1.0)
        class_loss = tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.maximum(labels, 0), logits=predictions['objectness'])
        targets = proposal_generator.RPN_BOX_CODER.encode(_gathered_boxes(gt_boxes, best_gt), anchors)
        box_loss = losses.smooth_l1(predictions['box_codes'][None], targets[None],
                                    sigma=RPN_SMOOTH_L1_SIGMA)[0]
        positive = tf.cast(labels > 0, tf.float32)
        return (tf.reduce_sum(class_loss * tf.cast(sampled, tf.float32)) / num_sampled,
                tf.reduce_sum(box_loss * positive) / num_sampled)

    def _rfcn_loss(self, predictions, gt_boxes, gt_classes):
        proposals, _ = self.proposals(predictions, self.train_proposals)
        rois = tf.concat([proposals, gt_boxes], axis=0)  # proposal_target_layer appends the GT
        classes, best_gt = region_targets.roi_labels(box_list_ops.iou(gt_boxes, rois), gt_classes)
        class_logits, box_codes = self.pool_rois(predictions, rois)
        valid = tf.cast(classes >= 0, tf.float32)
        class_loss = tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.maximum(classes, 0), logits=class_logits) * valid
        targets = ROI_BOX_CODER.encode(_gathered_boxes(gt_boxes, best_gt), rois)
        box_loss = losses.smooth_l1(box_codes[None], targets[None])[0] * tf.cast(classes > 0, tf.float32)
        selected, _ = losses.ohem_select_with_nms(class_loss + box_loss, rois, self.ohem_batch_size,
                                                  self.ohem_nms_iou)
        count = tf.maximum(tf.cast(tf.size(selected), tf.float32), 1.0)
        tf.summary.scalar('losses/num_rois', tf.shape(rois)[0])
        tf.summary.scalar('losses/num_foreground_rois', tf.reduce_sum(tf.cast(classes > 0, tf.int32)))
        return (tf.reduce_sum(tf.gather(class_loss, selected)) / count,
                tf.reduce_sum(tf.gather(box_loss, selected)) / count)

    def loss(self, predictions, groundtruth):
        """The RPN's log loss and smooth L1 (256 anchors, 1:1) and R-FCN's softmax + smooth L1 over
        OHEM's B RoIs, each averaged over its examples (the release's VALID normalisation)."""
        num_gt = groundtruth[fields.num_groundtruth_boxes][0]
        gt_boxes = groundtruth[fields.groundtruth_boxes][0, :num_gt]
        gt_classes = groundtruth[fields.groundtruth_classes][0, :num_gt]
        rpn_class, rpn_box = self._rpn_loss(predictions, gt_boxes)
        rfcn_class, rfcn_box = self._rfcn_loss(predictions, gt_boxes, gt_classes)
        return {'rpn_objectness_loss': rpn_class, 'rpn_box_loss': rpn_box,
                'rfcn_class_loss': rfcn_class, 'rfcn_box_loss': rfcn_box}

    def postprocess(self, predictions, **overrides):
        """Test proposals -> class probabilities and boxes -> per-class NMS.

        Returns:
          dict with ``detection_boxes`` ``[1, K, 4]`` (clipped to the image),
          ``detection_scores`` ``[1, K]``, ``detection_classes`` int32 ``[1, K]`` (1-based) and
          ``num_detections`` int32 ``[1]``; K is ``keep_top_k``.
        """
        with tf.name_scope('Postprocess'):
            rois, _ = self.proposals(predictions, self.test_proposals)
            class_logits, box_codes = self.pool_rois(predictions, rois)
            boxes = box_list_ops.clip_to_window(ROI_BOX_CODER.decode(box_codes, rois))
            settings = dict(self.postprocess_defaults)
            settings.update({key: value for key, value in overrides.items() if value is not None})
            detections = post_processing.multiclass_nms(boxes, tf.nn.softmax(class_logits), **settings)
            return {key: value[None] for key, value in detections.items()}


def _gathered_boxes(gt_boxes, best_gt):
    """Each example's ground-truth box (a dummy box where there is no ground truth: its targets are
    masked out)."""
    padded = tf.concat([gt_boxes, tf.constant([[0.0, 0.0, 1.0, 1.0]])], axis=0)
    return tf.gather(padded, tf.minimum(best_gt, tf.shape(gt_boxes)[0]))

