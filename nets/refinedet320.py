"""RefineDet320 on VGG16 (Zhang et al., "Single-Shot Refinement Neural Network for Object Detection",
CVPR 2018).

The reference is the authors' Caffe release (sfzhang15/RefineDet, ``examples/refinedet/
VGG16_VOC2007_320.py`` and the deploy prototxt it generates, kept in ``../shared/reference/caffe/``).
No batch norm anywhere and one 3x3 convolution per head, as there (some ports add both).

Layout (320x320 input; Caffe layer names are the variable scopes):
  vgg_16/conv1_1 .. conv5_3, pool5 2x2/s2, fc6 (3x3, dilation 3, 1024), fc7 (1x1, 1024)
  refinedet320/conv6_1 (1x1, 256), conv6_2 (3x3/s2, pad 1, 512)
  refinedet320/conv4_3_norm, conv5_3_norm: Normalize with initial scales 10 and 8
  ARM (anchor refinement) heads on conv4_3_norm (40 x 40), conv5_3_norm (20 x 20), fc7 (10 x 10) and
    conv6_2 (5 x 5): <source>_mbox_loc (3 anchors x 4) and <source>_mbox_conf (3 anchors x 2, objectness)
  Transfer connection blocks, top-down from the 5 x 5 level:
    P6 = relu(conv(relu(conv(relu(conv(conv6_2))))))                        # TL6_1, TL6_2, P6
    Pk = relu(conv(relu(conv(relu(conv(source_k))) + deconv(P{k+1}))))      # TLk_1, TLk_2, Pk-up, Pk
    for k = 5, 4, 3 on fc7, conv5_3_norm, conv4_3_norm (TLk_2 and the 2x2/s2 deconvolution have no
    ReLU; the element-wise sum Eltk has one); 256 channels throughout.
  ODM (object detection) heads on P3 .. P6: P<k>_mbox_loc (3 x 4) and P<k>_mbox_conf (3 x classes).
  6375 anchors: one size per level (32, 64, 128, 256 = 4x the stride) with ratios 1, 2 and 1/2.
"""
import tensorflow.compat.v1 as tf
import tf_slim as slim

from tf1zoo.nets import detection_layers, vgg

PriorLayer = detection_layers.PriorLayer

# VGG16_VOC2007_320.py: min sizes 32/64/128/256 (4x the steps), aspect ratio 2 with flip, no max size.
PRIOR_LAYERS = (
    PriorLayer('conv4_3_norm', 32., None, (2.,), 8.),
    PriorLayer('conv5_3_norm', 64., None, (2.,), 16.),
    PriorLayer('fc7', 128., None, (2.,), 32.),
    PriorLayer('conv6_2', 256., None, (2.,), 64.),
)
PRIOR_VARIANCES = (0.1, 0.1, 0.2, 0.2)
NORMALIZE_SCALES = {'conv4_3_norm': 10.0, 'conv5_3_norm': 8.0}
TCB_DEPTH = 256
# The ODM level fed by each ARM source (P6 comes from conv6_2 alone).
_TCB_LEVELS = (('conv6_2', 'P6', 6), ('fc7', 'P5', 5), ('conv5_3_norm', 'P4', 4),
               ('conv4_3_norm', 'P3', 3))

# DetectionOutput of the released deploy.prototxt.
POSTPROCESS_DEFAULTS = dict(score_threshold=0.01, iou_threshold=0.45, top_k_per_class=1000,
                            keep_top_k=500)
# Its objectness_score: negative anchor filtering's threshold.
OBJECTNESS_THRESHOLD = 0.01
# (name, depth, kernel, stride, Caffe pad) of the extra layers after fc7.
_EXTRA_LAYERS = (('conv6_1', 256, 1, 1, 0), ('conv6_2', 512, 3, 2, 1))




def _transfer_connection_block(source, higher, level, depth, data_format):
    """TLk_1 (ReLU), TLk_2 (+ ReLU at the top level), the upsampled higher level summed in, Pk."""
    net = slim.conv2d(source, depth, [3, 3], scope='TL%d_1' % level)
    if higher is None:
        net = slim.conv2d(net, depth, [3, 3], scope='TL%d_2' % level)
    else:
        net = slim.conv2d(net, depth, [3, 3], activation_fn=None, scope='TL%d_2' % level)
        upsampled = slim.conv2d_transpose(higher, depth, [2, 2], stride=2, padding='VALID',
                                          activation_fn=None, scope='P%d-up' % (level + 1))
        net = tf.nn.relu(net + upsampled, name='Elt%d' % level)
    return slim.conv2d(net, depth, [3, 3], scope='P%d' % level)


def _heads(end_points, sources, depth, scope_suffix, data_format):
    """One head per source, the i-th with the priors of PRIOR_LAYERS[i] (ODM level Pk sees the refined
    anchors of the ARM source it is built from)."""
    return tf.concat([detection_layers.multibox_head(end_points[source],
                                                     detection_layers.num_priors_per_cell(layer), depth,
                                                     source + scope_suffix, data_format)
                      for source, layer in zip(sources, PRIOR_LAYERS)], axis=1)


def refinedet320(inputs, num_classes=21, is_training=True, depth_multiplier=1.0, data_format='NHWC',
                 reuse=None, scope='refinedet320'):
    """RefineDet320's forward pass: VGG16 body, ARM heads, transfer connection blocks, ODM heads.

    Args:
      inputs: float32 [batch, 320, 320, 3] images in the preprocessing's channel convention (NCHW when
        data_format is 'NCHW').
      num_classes: classes including background (21 for VOC).
      is_training: unused here (no batch norm or dropout in the Caffe model; the optional batch norm
        of a from-scratch run takes it from the arg_scope); the common net signature.
      depth_multiplier: thins every layer, the TCBs included (1.0 is the paper's net).
      data_format: 'NHWC' or 'NCHW', as in the arg_scope.
      reuse: whether to reuse the variables.
      scope: scope of the RefineDet-specific layers; the body lives in 'vgg_16'.

    Returns:
      predictions: dict with
        'arm_box_encodings': float32 [batch, 6375, 4], (ty, tx, th, tw) relative to the anchors;
        'arm_class_predictions': float32 [batch, 6375, 2] logits (background, object);
        'box_encodings': float32 [batch, 6375, 4], ODM codes relative to the ARM-refined anchors;
        'class_predictions_with_background': float32 [batch, 6375, num_classes] ODM logits.
      end_points: dict of the body's, the extra layers', the Normalize layers' and P3..P6's tensors.
    """
    del is_training
    with tf.variable_scope(tf.get_variable_scope(), reuse=reuse):
        net, end_points = vgg.vgg_16_base(inputs, pool5_stride=2, fc6_dilation=3,
                                          depth_multiplier=depth_multiplier, data_format=data_format)
        with tf.variable_scope(scope, 'refinedet320', [net]):
            vgg.caffe_conv_stack(net, end_points, _EXTRA_LAYERS, depth_multiplier, data_format)
            for name, scale in NORMALIZE_SCALES.items():
                end_points[name] = detection_layers.l2_normalization(
                    end_points[name.replace('_norm', '')], scale, data_format, scope=name)
            arm_sources = [layer.source for layer in PRIOR_LAYERS]
            predictions = {'arm_box_encodings': _heads(end_points, arm_sources, 4, '_mbox_loc',
                                                       data_format),
                           'arm_class_predictions': _heads(end_points, arm_sources, 2, '_mbox_conf',
                                                           data_format)}
            depth = vgg.scaled_depth(TCB_DEPTH, depth_multiplier)
            higher = None
            for source, level_name, level in _TCB_LEVELS:
                higher = _transfer_connection_block(end_points[source], higher, level, depth,
                                                    data_format)
                end_points[level_name] = higher
            odm_sources = ['P3', 'P4', 'P5', 'P6']
            predictions['box_encodings'] = _heads(end_points, odm_sources, 4, '_mbox_loc', data_format)
            predictions['class_predictions_with_background'] = _heads(
                end_points, odm_sources, num_classes, '_mbox_conf', data_format)
    return predictions, end_points


refinedet320.default_image_size = 320


def refinedet320_arg_scope(weight_decay=0.0005, data_format='NHWC', weights_init='xavier',
                           batch_norm=False, is_training=True, winograd_tile_size=None):
    """VGG16_VOC2007_320.py's set-up: weight decay 5e-4, Xavier weights, zero biases, ReLU;
    optionally Winograd convolutions in the body (`vgg.vgg_arg_scope`)."""
    return vgg.vgg_arg_scope(weight_decay=weight_decay, data_format=data_format,
                             weights_init=weights_init, batch_norm=batch_norm, is_training=is_training,
                             winograd_tile_size=winograd_tile_size)
