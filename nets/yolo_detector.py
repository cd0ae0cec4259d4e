"""YOLO v1 as a detector: the net, the Eq. (3) loss and darknet's decoding, behind the common API.

`YoloV1Detector` has the ``predict / loss / postprocess`` methods the training and inference loops
call on every detector (see `single_shot_detector.SingleShotDetector`). Images are
``[batch, 448, 448, 3]`` RGB in [0, 1] (the ``darknet_rgb`` convention); boxes are normalised
``[ymin, xmin, ymax, xmax]``; ``num_classes`` counts the background (class 0), as everywhere in the
repository, while the net's C is ``num_classes - 1``.

Decoding is darknet's ``get_detection_detections`` (src/detection_layer.c): every cell's B boxes,
each with the class-specific confidence Pr(class | object) x confidence for every class (the paper's
Eq. (2); raw linear outputs, no softmax), kept above a score threshold, then per-class greedy NMS
(``do_nms_sort``).
"""
import tensorflow.compat.v1 as tf
import tf_slim as slim

from tf1zoo.nets import darknet_layers, yolo_v1
from tf1zoo.ops import post_processing, standard_fields, yolo_box_coder, yolo_loss

fields = standard_fields.InputDataFields

CLASS_PROBABILITIES = 'class_probabilities'
CONFIDENCES = 'confidences'
BOX_CODES = 'box_codes'


class YoloV1Detector:
    """YOLO v1's training and inference graph.

    Args:
      num_classes: classes including the background (21 for VOC).
      depth_multiplier: thins the net (1.0 is the paper's).
      data_format: 'NHWC' or 'NCHW' for the convolutions.
      weight_decay: L2 decay of the weights (darknet's 5e-4).
      batch_norm: batch norm on the convolutions of the paper's table.
      layers: a layer table (a darknet cfg's, e.g. from a converted checkpoint) instead of the
        paper's; its ``[detection]`` section sets S, B, C and the loss scales.
      postprocess_defaults: `post_processing.batch_multiclass_nms` arguments.
      winograd_tile_size: Winograd for the 3x3 stride-1 convolutions (`darknet_layers`; inference).
    """

    def __init__(self, num_classes, depth_multiplier=1.0, data_format='NHWC', weight_decay=0.0005,
                 batch_norm=False, layers=None, postprocess_defaults=None, winograd_tile_size=None,
                 thin_connected=True, zero_init_output=False):
        if layers is None:
            layers = yolo_v1.yolo_v1_layers(num_classes - 1, batch_norm=batch_norm)
        self.layers = tuple(layers)
        self.detection = darknet_layers.detection_layer(self.layers)
        if self.detection.classes != num_classes - 1:
            raise ValueError('the detection layer has %d classes, the dataset %d (background '
                             'excluded)' % (self.detection.classes, num_classes - 1))
        self.num_classes = num_classes
        self._depth_multiplier = depth_multiplier
        self._data_format = data_format
        self._weight_decay = weight_decay
        self._winograd_tile_size = winograd_tile_size
        self._thin_connected = thin_connected
        self._zero_init_output = zero_init_output
        self.box_coder = yolo_box_coder.GridBoxCoder(self.detection.side, sqrt=self.detection.sqrt)
        self.postprocess_defaults = dict(yolo_v1.POSTPROCESS_DEFAULTS, **(postprocess_defaults or {}))

    @property
    def num_predictions(self):
        """Boxes a postprocess can return: S * S * B * C."""
        d = self.detection
        return d.side * d.side * d.num * d.classes

    def predict(self, images, is_training):
        """Runs the net.

        Returns:
          dict with ``class_probabilities`` ``[batch, S*S, C]``, ``confidences`` ``[batch, S*S, B]``
          and ``box_codes`` ``[batch, S*S, B, 4]``; and the net's end_points.
        """
        with slim.arg_scope(yolo_v1.yolo_v1_arg_scope(weight_decay=self._weight_decay,
                                                      is_training=is_training,
                                                      data_format=self._data_format,
                                                      winograd_tile_size=self._winograd_tile_size)):
            _, end_points = yolo_v1.yolo_v1(images, num_classes=self.detection.classes,
                                            is_training=is_training,
                                            depth_multiplier=self._depth_multiplier,
                                            layers=self.layers, data_format=self._data_format,
                                            thin_connected=self._thin_connected,
                                            zero_init_output=self._zero_init_output)
        predictions = {key: end_points[key] for key in (CLASS_PROBABILITIES, CONFIDENCES, BOX_CODES)}
        return predictions, end_points

    def loss(self, predictions, groundtruth):
        """Eq. (3), term by term (`ops.yolo_loss`): coordinate, object, no-object and class losses."""
        d = self.detection
        losses = yolo_loss.yolo_v1_loss(
            predictions[CLASS_PROBABILITIES], predictions[CONFIDENCES], predictions[BOX_CODES],
            groundtruth[fields.groundtruth_boxes], groundtruth[fields.groundtruth_classes],
            groundtruth[fields.num_groundtruth_boxes], self.box_coder, coord_scale=d.coord_scale,
            object_scale=d.object_scale, noobject_scale=d.noobject_scale, class_scale=d.class_scale,
            rescore=d.rescore)
        tf.summary.scalar('losses/num_objects', losses.num_objects)
        return {'coordinate_loss': losses.coordinate_loss, 'object_loss': losses.object_loss,
                'noobject_loss': losses.noobject_loss, 'class_loss': losses.class_loss}

    def decode(self, predictions):
        """(boxes ``[batch, S*S*B, 4]``, class-specific confidences ``[batch, S*S*B, C]``), darknet's
        box order (cell-major, then predictor)."""
        boxes = self.box_coder.decode(predictions[BOX_CODES])
        scores = predictions[CONFIDENCES][..., None] * predictions[CLASS_PROBABILITIES][:, :, None, :]
        d = self.detection
        num_boxes = d.side * d.side * d.num
        return tf.reshape(boxes, [-1, num_boxes, 4]), tf.reshape(scores, [-1, num_boxes, d.classes])

    def postprocess(self, predictions, **overrides):
        """Decoding, score threshold and per-class NMS.

        Returns:
          dict with ``detection_boxes`` ``[batch, K, 4]`` (normalised, not clipped),
          ``detection_scores`` ``[batch, K]``, ``detection_classes`` int32 ``[batch, K]`` (1-based)
          and ``num_detections`` int32 ``[batch]``; K is ``keep_top_k`` (default: every box and
          class, S*S*B*C).
        """
        with tf.name_scope('Postprocess'):
            boxes, scores = self.decode(predictions)
            with_background = tf.pad(scores, [[0, 0], [0, 0], [1, 0]])
            return post_processing.batch_multiclass_nms(boxes, with_background,
                                                        **self.nms_settings(overrides))

    def nms_settings(self, overrides):
        """``postprocess_defaults`` with the overrides that are not None."""
        settings = dict(self.postprocess_defaults, keep_top_k=self.num_predictions)
        settings.update({key: value for key, value in overrides.items() if value is not None})
        return settings
