"""SSD300 on VGG16 (Liu et al., "SSD: Single Shot MultiBox Detector", ECCV 2016).

The reference is the authors' Caffe release (weiliu89/caffe, branch ``ssd``: ``examples/ssd/ssd_pascal.py``
and the deploy prototxt it generates, kept in ``../shared/reference/caffe/``), not the paper's text where
the two differ (the paper's s_min = 0.2 scales vs. the release's 30/60/111/... pixel sizes).

Layout (300x300 input; Caffe layer names are the variable scopes):
  vgg_16/conv1_1 .. conv5_3, pool5 3x3/s1, fc6 (3x3, dilation 6, 1024), fc7 (1x1, 1024)
  ssd_300_vgg/conv6_1 (1x1, 256)  conv6_2 (3x3/s2, pad 1, 512)   # 10 x 10
  ssd_300_vgg/conv7_1 (1x1, 128)  conv7_2 (3x3/s2, pad 1, 256)   #  5 x 5
  ssd_300_vgg/conv8_1 (1x1, 128)  conv8_2 (3x3, pad 0, 256)      #  3 x 3
  ssd_300_vgg/conv9_1 (1x1, 128)  conv9_2 (3x3, pad 0, 256)      #  1 x 1
  ssd_300_vgg/conv4_3_norm/scale (Normalize, initial scale 20)
  ssd_300_vgg/<source>_mbox_loc, <source>_mbox_conf: 3x3 heads on conv4_3_norm (38 x 38), fc7 (19 x 19),
  conv6_2, conv7_2, conv8_2, conv9_2; 8732 priors in all.
"""
import tensorflow.compat.v1 as tf

from tf1zoo.nets import detection_layers, vgg

PriorLayer = detection_layers.PriorLayer

# ssd_pascal.py: min_ratio 20, max_ratio 90 over 5 layers (step 17%) plus 10% for conv4_3,
# i.e. min sizes 30, 60, 111, 162, 213, 264 and max sizes 60, 111, 162, 213, 264, 315; flip on, clip off.
PRIOR_LAYERS = (
    PriorLayer('conv4_3_norm', 30., 60., (2.,), 8.),
    PriorLayer('fc7', 60., 111., (2., 3.), 16.),
    PriorLayer('conv6_2', 111., 162., (2., 3.), 32.),
    PriorLayer('conv7_2', 162., 213., (2., 3.), 64.),
    PriorLayer('conv8_2', 213., 264., (2.,), 100.),
    PriorLayer('conv9_2', 264., 315., (2.,), 300.),
)
PRIOR_VARIANCES = (0.1, 0.1, 0.2, 0.2)
CONV4_3_NORM_SCALE = 20.0

# (name, depth, kernel, stride, Caffe pad) of the extra layers after fc7.
_EXTRA_LAYERS = (
    ('conv6_1', 256, 1, 1, 0), ('conv6_2', 512, 3, 2, 1),
    ('conv7_1', 128, 1, 1, 0), ('conv7_2', 256, 3, 2, 1),
    ('conv8_1', 128, 1, 1, 0), ('conv8_2', 256, 3, 1, 0),
    ('conv9_1', 128, 1, 1, 0), ('conv9_2', 256, 3, 1, 0),
)

# DetectionOutput of the released deploy.prototxt.
POSTPROCESS_DEFAULTS = dict(score_threshold=0.01, iou_threshold=0.45, top_k_per_class=400,
                            keep_top_k=200)


def ssd_vgg_300(inputs, num_classes=21, is_training=True, depth_multiplier=1.0,
                data_format='NHWC', reuse=None, scope='ssd_300_vgg'):
    """SSD300's forward pass: VGG16 body, extra layers, L2-normalised conv4_3 and the multibox heads.

    Args:
      inputs: float32 [batch, 300, 300, 3] images, normalised by the preprocessing's channel convention
        (NCHW when data_format is 'NCHW').
      num_classes: number of classes including background (21 for VOC).
      is_training: unused here (the Caffe model has no batch norm or dropout; the optional batch norm
        of a from-scratch run takes it from the arg_scope); kept for the common net signature.
      depth_multiplier: thins every body and extra layer (1.0 is the paper's net).
      data_format: 'NHWC' or 'NCHW', as in the arg_scope.
      reuse: whether to reuse the variables.
      scope: scope of the SSD-specific layers; the body lives in 'vgg_16' so that slim's ImageNet
        checkpoint loads by name.

    Returns:
      predictions: dict with
        'box_encodings': float32 [batch, num_priors, 4], (ty, tx, th, tw) relative to the priors;
        'class_predictions_with_background': float32 [batch, num_priors, num_classes] logits.
      end_points: dict of the body's, the extra layers' and the heads' tensors by Caffe layer name.
    """
    del is_training
    with tf.variable_scope(tf.get_variable_scope(), reuse=reuse):
        net, end_points = vgg.vgg_16_base(inputs, pool5_stride=1, fc6_dilation=6,
                                          depth_multiplier=depth_multiplier,
                                          data_format=data_format)
        with tf.variable_scope(scope, 'ssd_300_vgg', [net]):
            vgg.caffe_conv_stack(net, end_points, _EXTRA_LAYERS, depth_multiplier, data_format)
            end_points['conv4_3_norm'] = detection_layers.l2_normalization(
                end_points['conv4_3'], CONV4_3_NORM_SCALE, data_format, scope='conv4_3_norm')
            predictions = _multibox_heads(end_points, num_classes, data_format)
    return predictions, end_points


ssd_vgg_300.default_image_size = 300


def _multibox_heads(end_points, num_classes, data_format):
    box_encodings, class_logits = [], []
    for layer in PRIOR_LAYERS:
        source = end_points[layer.source]
        num_priors = detection_layers.num_priors_per_cell(layer)
        box_encodings.append(detection_layers.multibox_head(
            source, num_priors, 4, layer.source + '_mbox_loc', data_format))
        class_logits.append(detection_layers.multibox_head(
            source, num_priors, num_classes, layer.source + '_mbox_conf', data_format))
    return {'box_encodings': tf.concat(box_encodings, axis=1),
            'class_predictions_with_background': tf.concat(class_logits, axis=1)}


def ssd_vgg_300_arg_scope(weight_decay=0.0005, data_format='NHWC', weights_init='xavier',
                          batch_norm=False, is_training=True, winograd_tile_size=None):
    """Weight decay 5e-4 (ssd_pascal.py), Xavier init (or 'he' from scratch), zero biases, ReLU;
    optionally Winograd convolutions in the body (`vgg.vgg_arg_scope`)."""
    return vgg.vgg_arg_scope(weight_decay=weight_decay, data_format=data_format,
                             weights_init=weights_init, batch_norm=batch_norm, is_training=is_training,
                             winograd_tile_size=winograd_tile_size)
