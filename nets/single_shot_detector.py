"""A single-shot detector: a multibox net, its priors, the MultiBox loss and DetectionOutput.

`SingleShotDetector` wraps a net function with the slim signature
``net(inputs, num_classes, is_training, depth_multiplier, data_format) -> (predictions, end_points)``
whose predictions are ``box_encodings`` ``[batch, num_priors, 4]`` and
``class_predictions_with_background`` ``[batch, num_priors, num_classes]`` logits, and a list of
prior layers (``source``, ``min_size``, ``max_size``, ``aspect_ratios``, ``step``). As Caffe's
PriorBox layers do, the priors take each source map's size from the built graph, so they always
agree with the heads.

Images are ``[batch, height, width, 3]`` in the preprocessing's convention (NHWC on the input
side, whatever the net's data format); boxes are normalised ``[ymin, xmin, ymax, xmax]``; class 0
is the background and ``num_classes`` counts it.
"""
import tensorflow.compat.v1 as tf
import tf_slim as slim

from tf1zoo.ops import anchor_generator, box_coder, matcher, multibox_loss, post_processing, standard_fields

fields = standard_fields.InputDataFields

BOX_ENCODINGS = 'box_encodings'
CLASS_PREDICTIONS = 'class_predictions_with_background'
ANCHORS = 'anchors'


class SingleShotDetector:
    """SSD's training and inference graph around a multibox net.

    Args:
      net_fn: the net (e.g. `ssd_vgg_300.ssd_vgg_300`).
      arg_scope_fn: ``(weight_decay, data_format, weights_init, batch_norm, is_training) ->
        arg_scope`` beside the net.
      prior_layers: the net's prior layers, in head order.
      num_classes: classes including the background.
      depth_multiplier: passed to the net (1.0 is the paper's net).
      data_format: 'NHWC' or 'NCHW' for the net's convolutions.
      weight_decay: L2 weight decay of the arg_scope.
      weights_init: the arg_scope's initializer name ('xavier', Caffe's; 'he' for from scratch).
      batch_norm: batch norm after the body's and extra layers' convolutions (training from
        scratch; the released models have none).
      winograd_tile_size: None (TF's direct convolutions) or 2, 4, 6, 'adaptive': the wide 3x3 convolutions
        (`vgg.vgg_arg_scope`) as Winograd F(m x m, 3 x 3) (`ops.winograd`), for CPU inference.
      variances: the priors' variances (box coder).
      match_threshold: IoU from which a prior matches a ground truth after bipartite matching.
      neg_pos_ratio, loc_weight: MultiBox loss parameters.
      postprocess_defaults: dict of `post_processing.batch_multiclass_nms` arguments
        (score_threshold, iou_threshold, top_k_per_class, keep_top_k).
    """

    def __init__(self, net_fn, arg_scope_fn, prior_layers, num_classes, depth_multiplier=1.0,
                 data_format='NHWC', weight_decay=0.0005, weights_init='xavier', batch_norm=False,
                 winograd_tile_size=None, variances=box_coder.SSD_VARIANCES,
                 match_threshold=multibox_loss.SSD_MATCH_THRESHOLD,
                 neg_pos_ratio=multibox_loss.SSD_NEG_POS_RATIO,
                 loc_weight=multibox_loss.SSD_LOC_WEIGHT, postprocess_defaults=None):
        self._net_fn = net_fn
        self._arg_scope_fn = arg_scope_fn
        self._prior_layers = tuple(prior_layers)
        self.num_classes = num_classes
        self._depth_multiplier = depth_multiplier
        self._data_format = data_format
        self._weight_decay = weight_decay
        self._weights_init = weights_init
        self._batch_norm = batch_norm
        self._winograd_tile_size = winograd_tile_size
        self.box_coder = box_coder.CenterSizeBoxCoder(variances=variances)
        self.matcher = matcher.Matcher(matched_threshold=match_threshold)
        self._neg_pos_ratio = neg_pos_ratio
        self._loc_weight = loc_weight
        self.postprocess_defaults = dict(postprocess_defaults or {})

    def predict(self, images, is_training):
        """Runs the net.

        Args:
          images: float32 ``[batch, height, width, 3]`` preprocessed images.
          is_training: Python bool.

        Returns:
          dict with ``box_encodings`` ``[batch, num_priors, 4]``,
          ``class_predictions_with_background`` ``[batch, num_priors, num_classes]`` logits and
          ``anchors`` float32 ``[num_priors, 4]`` (a constant); and the net's end_points.
        """
        inputs = images
        if self._data_format == 'NCHW':
            inputs = tf.transpose(images, [0, 3, 1, 2])
        with slim.arg_scope(self._arg_scope_fn(weight_decay=self._weight_decay,
                                               data_format=self._data_format,
                                               weights_init=self._weights_init,
                                               batch_norm=self._batch_norm,
                                               is_training=is_training,
                                               winograd_tile_size=self._winograd_tile_size)):
            predictions, end_points = self._net_fn(
                inputs, num_classes=self.num_classes, is_training=is_training,
                depth_multiplier=self._depth_multiplier, data_format=self._data_format)
        image_size = images.shape[1:3].as_list()
        predictions = dict(predictions)
        predictions[ANCHORS] = tf.constant(self.anchors(end_points, image_size), name='anchors')
        return predictions, end_points

    def anchors(self, end_points, image_size):
        """float32 NumPy ``[num_priors, 4]``: Caffe PriorBox on each source map's static size."""
        specs = []
        for layer in self._prior_layers:
            source = end_points[layer.source]
            spatial = source.shape[2:4] if self._data_format == 'NCHW' else source.shape[1:3]
            specs.append(anchor_generator.PriorBoxSpec(
                feature_map_size=tuple(spatial.as_list()), min_sizes=layer.min_size,
                max_sizes=layer.max_size or (), aspect_ratios=layer.aspect_ratios, flip=True,
                step=layer.step))
        return anchor_generator.MultiscaleAnchors(specs, tuple(image_size)).generate()

    def loss(self, predictions, groundtruth):
        """The MultiBox loss.

        Args:
          predictions: `predict`'s dict.
          groundtruth: batched tensor dict with ``groundtruth_boxes`` ``[batch, max_boxes, 4]``,
            ``groundtruth_classes`` ``[batch, max_boxes]`` and ``num_groundtruth_boxes``
            ``[batch]``.

        Returns:
          dict of scalar losses ``localization_loss`` and ``classification_loss``.
        """
        result = multibox_loss.multibox_loss(
            predictions[BOX_ENCODINGS], predictions[CLASS_PREDICTIONS], predictions[ANCHORS],
            groundtruth[fields.groundtruth_boxes], groundtruth[fields.groundtruth_classes],
            groundtruth[fields.num_groundtruth_boxes], self.matcher, self.box_coder,
            neg_pos_ratio=self._neg_pos_ratio, loc_weight=self._loc_weight)
        tf.summary.scalar('losses/num_positives', result.num_positives)
        return {'localization_loss': result.localization_loss,
                'classification_loss': result.classification_loss}

    def postprocess(self, predictions, **overrides):
        """Caffe's DetectionOutput: decode, softmax, per-class NMS, keep the best.

        Args:
          predictions: `predict`'s dict.
          **overrides: `post_processing.batch_multiclass_nms` arguments replacing
            ``postprocess_defaults`` (None values are ignored).

        Returns:
          dict with ``detection_boxes`` ``[batch, keep_top_k, 4]`` (normalised, not clipped),
          ``detection_scores`` ``[batch, keep_top_k]``, ``detection_classes`` int32
          ``[batch, keep_top_k]`` (1-based) and ``num_detections`` int32 ``[batch]``.
        """
        with tf.name_scope('Postprocess'):
            boxes = self.box_coder.decode(predictions[BOX_ENCODINGS], predictions[ANCHORS])
            scores = tf.nn.softmax(predictions[CLASS_PREDICTIONS], axis=-1)
            return post_processing.batch_multiclass_nms(boxes, scores, **self.nms_settings(overrides))

    def nms_settings(self, overrides):
        """``postprocess_defaults`` with the overrides that are not None."""
        settings = dict(self.postprocess_defaults)
        settings.update({key: value for key, value in overrides.items() if value is not None})
        return settings
