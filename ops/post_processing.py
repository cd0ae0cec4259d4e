"""Post-processing: score threshold, top-k, per-class NMS and keep-top-k (Caffe's DetectionOutput).

The rules follow the SSD Caffe release (detection_output_layer.cpp, bbox_util.cpp ApplyNMSFast):
for every class except the background, keep the boxes whose score is strictly above
``score_threshold``, take the ``top_k_per_class`` best of them (ties keep the lower index first,
as its stable sort does), run greedy NMS (a box is dropped when its IoU with a kept box exceeds
``iou_threshold``), then keep the ``keep_top_k`` best detections over all classes.

Boxes are normalised ``[ymin, xmin, ymax, xmax]`` (any corner order NMS accepts); class 0 is the
background and detections report 1-based class ids. Outputs are padded to ``keep_top_k`` with
zeros, ``num_detections`` says how many rows are real.
"""
from tf1zoo.ops import compat  # noqa: F401, I001  (TF 2.21 graph-mode set-up; must precede TF)
import tensorflow.compat.v1 as tf

DETECTION_BOXES = 'detection_boxes'
DETECTION_SCORES = 'detection_scores'
DETECTION_CLASSES = 'detection_classes'
NUM_DETECTIONS = 'num_detections'


def _class_nms(boxes, class_scores, score_threshold, iou_threshold, top_k):
    """One class: threshold, top-k, NMS -> (indices int32 [K], scores float32 [K])."""
    candidates = tf.cast(tf.reshape(tf.where(class_scores > score_threshold), [-1]), tf.int32)
    candidate_scores = tf.gather(class_scores, candidates)
    if top_k is not None and top_k > 0:
        k = tf.minimum(top_k, tf.size(candidates))
        candidate_scores, order = tf.math.top_k(candidate_scores, k=k, sorted=True)
        candidates = tf.gather(candidates, order)
    kept = tf.image.non_max_suppression(
        tf.gather(boxes, candidates), candidate_scores,
        max_output_size=tf.size(candidates), iou_threshold=iou_threshold)
    return tf.gather(candidates, kept), tf.gather(candidate_scores, kept)


def multiclass_nms(boxes, scores, score_threshold=0.01, iou_threshold=0.45, top_k_per_class=400,
                   keep_top_k=200, background_class=0, scope=None):
    """DetectionOutput for one image.

    Args:
      boxes: float32 ``[num_boxes, 4]`` decoded boxes, shared by all classes.
      scores: float32 ``[num_boxes, num_classes]`` class probabilities (background included).
      score_threshold: a box enters NMS for a class only with a score strictly above this.
      iou_threshold: NMS overlap threshold.
      top_k_per_class: boxes per class kept before NMS (None or <= 0: all).
      keep_top_k: detections kept over all classes; also the padded output length.
      background_class: class index skipped (None: none skipped).
      scope: name scope.

    Returns:
      dict with ``detection_boxes`` ``[keep_top_k, 4]``, ``detection_scores`` ``[keep_top_k]``,
      ``detection_classes`` int32 ``[keep_top_k]`` (the score column index) and
      ``num_detections`` int32 scalar; rows sorted by descending score.
    """
    with tf.name_scope(scope, 'MultiClassNonMaxSuppression', [boxes, scores]):
        boxes = tf.convert_to_tensor(boxes, tf.float32)
        scores = tf.convert_to_tensor(scores, tf.float32)
        num_classes = scores.shape[1]
        if num_classes is None:
            raise ValueError('scores must have a static number of classes, got %s' % scores.shape)
        all_indices, all_scores, all_classes = [], [], []
        for class_id in range(num_classes):
            if class_id == background_class:
                continue
            indices, class_scores = _class_nms(boxes, scores[:, class_id], score_threshold,
                                               iou_threshold, top_k_per_class)
            all_indices.append(indices)
            all_scores.append(class_scores)
            all_classes.append(tf.fill(tf.shape(indices), class_id))
        indices = tf.concat(all_indices, axis=0)
        kept_scores = tf.concat(all_scores, axis=0)
        classes = tf.concat(all_classes, axis=0)
        num_kept = tf.minimum(tf.size(kept_scores), keep_top_k)
        # Caffe sorts the survivors of all classes by score to keep the best keep_top_k.
        kept_scores, order = tf.math.top_k(kept_scores, k=num_kept, sorted=True)
        indices = tf.gather(indices, order)
        classes = tf.gather(classes, order)
        padding = keep_top_k - num_kept
        return {
            DETECTION_BOXES: tf.pad(tf.gather(boxes, indices), [[0, padding], [0, 0]]),
            DETECTION_SCORES: tf.pad(kept_scores, [[0, padding]]),
            DETECTION_CLASSES: tf.pad(classes, [[0, padding]]),
            NUM_DETECTIONS: num_kept,
        }


def batch_multiclass_nms(boxes, scores, score_threshold=0.01, iou_threshold=0.45,
                         top_k_per_class=400, keep_top_k=200, background_class=0,
                         method='per_class', scope=None):
    """DetectionOutput over a batch.

    Args:
      boxes: float32 ``[batch, num_boxes, 4]``.
      scores: float32 ``[batch, num_boxes, num_classes]`` probabilities, background included.
      score_threshold, iou_threshold, top_k_per_class, keep_top_k, background_class: as
        `multiclass_nms`.
      method: 'per_class' (Caffe's rules exactly, image by image) or 'combined'
        (`tf.image.combined_non_max_suppression`, one batched op: faster on GPU, but its
        per-class cap replaces top-k before NMS and it keeps scores >= the threshold).
      scope: name scope.

    Returns:
      dict with ``detection_boxes`` ``[batch, keep_top_k, 4]``, ``detection_scores``
      ``[batch, keep_top_k]``, ``detection_classes`` int32 ``[batch, keep_top_k]`` and
      ``num_detections`` int32 ``[batch]``.
    """
    with tf.name_scope(scope, 'BatchMultiClassNonMaxSuppression', [boxes, scores]):
        boxes = tf.convert_to_tensor(boxes, tf.float32)
        scores = tf.convert_to_tensor(scores, tf.float32)
        if method == 'combined':
            return _combined_nms(boxes, scores, score_threshold, iou_threshold, top_k_per_class,
                                 keep_top_k, background_class)
        if method != 'per_class':
            raise ValueError("method must be 'per_class' or 'combined', got %r" % (method,))

        def one_image(args):
            return multiclass_nms(args[0], args[1], score_threshold, iou_threshold,
                                  top_k_per_class, keep_top_k, background_class)

        signature = {
            DETECTION_BOXES: tf.TensorSpec([keep_top_k, 4], tf.float32),
            DETECTION_SCORES: tf.TensorSpec([keep_top_k], tf.float32),
            DETECTION_CLASSES: tf.TensorSpec([keep_top_k], tf.int32),
            NUM_DETECTIONS: tf.TensorSpec([], tf.int32),
        }
        return tf.map_fn(one_image, (boxes, scores), fn_output_signature=signature)


def _combined_nms(boxes, scores, score_threshold, iou_threshold, top_k_per_class, keep_top_k,
                  background_class):
    num_classes = scores.shape[-1]
    foreground = [c for c in range(num_classes) if c != background_class]
    class_ids = tf.constant(foreground, tf.int32)
    nmsed = tf.image.combined_non_max_suppression(
        boxes[:, :, None, :], tf.gather(scores, class_ids, axis=2),
        max_output_size_per_class=top_k_per_class or keep_top_k, max_total_size=keep_top_k,
        iou_threshold=iou_threshold, score_threshold=score_threshold, pad_per_class=False,
        clip_boxes=False)
    boxes_out, scores_out, classes_out, valid = nmsed
    classes_out = tf.gather(class_ids, tf.cast(classes_out, tf.int32))
    is_real = tf.sequence_mask(valid, keep_top_k)
    return {
        DETECTION_BOXES: boxes_out,
        DETECTION_SCORES: scores_out,
        DETECTION_CLASSES: tf.where(is_real, classes_out, tf.zeros_like(classes_out)),
        NUM_DETECTIONS: tf.cast(valid, tf.int32),
    }
