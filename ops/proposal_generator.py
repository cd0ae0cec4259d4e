"""Region proposals from RPN outputs for one image (py-faster-rcnn's ``proposal_layer.py``).

Anchors, proposals and the returned boxes are normalised ``[ymin, xmin, ymax, xmax]``; box codes
are (ty, tx, th, tw) Faster R-CNN deltas without scaling (the RPN's targets are not normalised).
Steps: decode every anchor, clip to the image, drop boxes with a side below ``min_size`` pixels
(py-faster-rcnn's RPN_MIN_SIZE 16; it measures x2 - x1 + 1 in pixels, continuous coordinates here),
keep the ``pre_nms_top_n`` best by objectness, greedy NMS at ``nms_iou``, keep ``post_nms_top_n``.
"""
import tensorflow.compat.v1 as tf

from tf1zoo.ops import box_coder as box_coder_lib
from tf1zoo.ops import box_list_ops

# py-faster-rcnn TEST (and R-FCN's rfcn_end2end_ohem.yml TRAIN): 6000 before NMS, 300 after, 0.7.
PRE_NMS_TOP_N = 6000
POST_NMS_TOP_N = 300
NMS_IOU = 0.7
MIN_SIZE = 16
RPN_BOX_CODER = box_coder_lib.CenterSizeBoxCoder(scale_factors=(1.0, 1.0, 1.0, 1.0))


def generate_proposals(anchors, objectness, box_codes, image_shape, pre_nms_top_n=PRE_NMS_TOP_N,
                       post_nms_top_n=POST_NMS_TOP_N, nms_iou=NMS_IOU, min_size=MIN_SIZE,
                       box_coder=RPN_BOX_CODER):
    """Proposals of one image.

    Args:
      anchors: float32 ``[A, 4]``; objectness: float32 ``[A]`` foreground probabilities;
      box_codes: float32 ``[A, 4]``; image_shape: (height, width) in pixels of the network input.

    Returns:
      (boxes float32 ``[P, 4]``, scores float32 ``[P]``), P <= post_nms_top_n, by decreasing score.
    """
    with tf.name_scope('GenerateProposals'):
        boxes = box_list_ops.clip_to_window(box_coder.decode(box_codes, anchors))
        height, width = (tf.cast(size, tf.float32) for size in image_shape)
        ymin, xmin, ymax, xmax = tf.unstack(boxes, axis=1)
        large = ((ymax - ymin) * height >= min_size) & ((xmax - xmin) * width >= min_size)
        boxes, scores = tf.boolean_mask(boxes, large), tf.boolean_mask(objectness, large)
        scores, order = tf.math.top_k(scores, tf.minimum(pre_nms_top_n, tf.size(scores)))
        boxes = tf.gather(boxes, order)
        keep = tf.image.non_max_suppression(boxes, scores, post_nms_top_n, nms_iou)
        return tf.gather(boxes, keep), tf.gather(scores, keep)
