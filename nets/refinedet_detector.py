"""RefineDet's training and inference graph: two-step cascaded regression and negative anchor filtering.

On top of `single_shot_detector.SingleShotDetector` (net, priors, box coder, matcher), a RefineDet net
also predicts ``arm_box_encodings`` ``[batch, num_anchors, 4]`` and ``arm_class_predictions``
``[batch, num_anchors, 2]`` (background, object) for the same anchors. Then (Zhang et al. 2018, sec. 3):

* the ARM refines each anchor: ``refined = decode(arm_box_encodings, anchors)``;
* the ODM's box codes are relative to the refined anchors, so its targets are matched and encoded
  against them in training and decoded on them at inference: ``boxes = decode(box_encodings,
  refined)`` (the refined anchors carry no gradient, as the official loss layer does not propagate to
  the ARM's locations);
* negative anchor filtering: an anchor whose ARM objectness is below ``objectness_threshold`` (0.01:
  background probability above 0.99) is no candidate negative in the ODM's hard negative mining, and
  at inference its ODM scores are forced to background;
* the loss is the ARM's binary MultiBox loss plus the ODM's multi-class MultiBox loss, each with 3:1
  hard negative mining and normalised by its own positive count.

Boxes are normalised ``[ymin, xmin, ymax, xmax]``; class 0 is the background.
"""
import tensorflow.compat.v1 as tf

from tf1zoo.nets import single_shot_detector
from tf1zoo.ops import multibox_loss, post_processing, standard_fields

fields = standard_fields.InputDataFields

ARM_BOX_ENCODINGS = 'arm_box_encodings'
ARM_CLASS_PREDICTIONS = 'arm_class_predictions'
BOX_ENCODINGS = single_shot_detector.BOX_ENCODINGS
CLASS_PREDICTIONS = single_shot_detector.CLASS_PREDICTIONS
ANCHORS = single_shot_detector.ANCHORS


class RefineDetDetector(single_shot_detector.SingleShotDetector):
    """`SingleShotDetector` with RefineDet's ARM -> ODM cascade (see the module docstring).

    Args:
      objectness_threshold: negative anchor filtering's least ARM objectness (the official deploy's
        objectness_score, 0.01).
      Others as `single_shot_detector.SingleShotDetector`.
    """

    def __init__(self, *args, objectness_threshold, **kwargs):
        super().__init__(*args, **kwargs)
        self.objectness_threshold = objectness_threshold

    def refined_anchors(self, predictions):
        """float32 ``[batch, num_anchors, 4]``: the anchors moved by the ARM's box codes."""
        return self.box_coder.decode(predictions[ARM_BOX_ENCODINGS], predictions[ANCHORS])

    def filtered_anchors(self, predictions):
        """bool ``[batch, num_anchors]``: the anchors negative anchor filtering removes, those whose ARM
        background probability exceeds 1 - objectness_threshold (the official layers' test)."""
        background = tf.nn.softmax(predictions[ARM_CLASS_PREDICTIONS], axis=-1)[..., 0]
        return background > 1.0 - self.objectness_threshold

    def loss(self, predictions, groundtruth):
        """ARM and ODM MultiBox losses.

        Args:
          predictions: `predict`'s dict.
          groundtruth: batched ``groundtruth_boxes``, ``groundtruth_classes`` and
            ``num_groundtruth_boxes`` (see `SingleShotDetector.loss`).

        Returns:
          dict of scalar losses ``arm_localization_loss``, ``arm_classification_loss``,
          ``localization_loss`` and ``classification_loss`` (the last two the ODM's).
        """
        boxes = groundtruth[fields.groundtruth_boxes]
        classes = groundtruth[fields.groundtruth_classes]
        num_boxes = groundtruth[fields.num_groundtruth_boxes]
        arm = multibox_loss.multibox_loss(
            predictions[ARM_BOX_ENCODINGS], predictions[ARM_CLASS_PREDICTIONS], predictions[ANCHORS],
            boxes, tf.ones_like(classes), num_boxes, self.matcher, self.box_coder,
            neg_pos_ratio=self._neg_pos_ratio, loc_weight=self._loc_weight, scope='ArmLoss')
        refined = tf.stop_gradient(self.refined_anchors(predictions))
        candidates = tf.logical_not(self.filtered_anchors(predictions))
        odm = multibox_loss.multibox_loss(
            predictions[BOX_ENCODINGS], predictions[CLASS_PREDICTIONS], refined, boxes, classes,
            num_boxes, self.matcher, self.box_coder, neg_pos_ratio=self._neg_pos_ratio,
            loc_weight=self._loc_weight, candidate_negatives=candidates, scope='OdmLoss')
        tf.summary.scalar('losses/arm_num_positives', arm.num_positives)
        tf.summary.scalar('losses/num_positives', odm.num_positives)
        return {'arm_localization_loss': arm.localization_loss,
                'arm_classification_loss': arm.classification_loss,
                'localization_loss': odm.localization_loss,
                'classification_loss': odm.classification_loss}

    def postprocess(self, predictions, **overrides):
        """The official RefineDet DetectionOutput: decode on the refined anchors, force the filtered
        anchors to background, then per-class NMS (see `SingleShotDetector.postprocess`)."""
        with tf.name_scope('Postprocess'):
            boxes = self.box_coder.decode(predictions[BOX_ENCODINGS], self.refined_anchors(predictions))
            scores = tf.nn.softmax(predictions[CLASS_PREDICTIONS], axis=-1)
            filtered = self.filtered_anchors(predictions)
            background = tf.one_hot(tf.zeros_like(filtered, tf.int32), self.num_classes)
            scores = tf.where(tf.broadcast_to(filtered[..., tf.newaxis], tf.shape(scores)),
                              background, scores)
            return post_processing.batch_multiclass_nms(boxes, scores, **self.nms_settings(overrides))
