"""R-FCN (Dai, Li, He and Sun 2016) on Inception-ResNet-v2: the fully convolutional layers.

The backbone is `inception_resnet_v2.inception_resnet_v2_base` with SAME alignment and output stride
16 (its last block dilated instead of strided, as the paper does with ResNet-101's conv5). As the
paper's ResNet detector puts the RPN on conv4 and the R-FCN layers on conv5, the RPN here reads
``PreAuxLogits`` (after block17, 1088 channels, stride 16) and the R-FCN layers ``Conv2d_7b_1x1``
(1536 channels, stride 16):

  RPN (Faster R-CNN; the release's ``rpn_conv/3x3`` 512 for ResNet): 3x3 convolution, ReLU, then
    1x1 ``objectness`` (2 per anchor: background, foreground logits) and ``box_codes`` (4 per
    anchor, (ty, tx, th, tw)); anchors of `anchor_generator.grid_anchors` (3 scales x 3 ratios),
    per cell in its order.
  R-FCN: 1x1 convolution to 1024 channels with ReLU (the release's ``conv_new_1``), then 1x1
    ``class_maps`` with k^2 (C + 1) channels and ``box_maps`` with 4 k^2 (class-agnostic; the
    release's ``rfcn_bbox`` has 8 k^2, background and foreground, and uses the foreground's),
    channel ``(d * k + i) * k + j`` as `ps_roi_pooling` reads them.

New layers are initialised as the release: N(0, 0.01) for the RPN and R-FCN class maps, N(0,
0.001) for the box maps, zero biases; weight decay 5e-4 (the paper's); the backbone keeps its own
arg scope (slim's batch norm, frozen in training: statistics of one image are useless).
"""
import tensorflow.compat.v1 as tf
import tf_slim as slim

from tf1zoo.nets import inception_resnet_v2
from tf1zoo.nets.vgg import scaled_depth

HEAD_SCOPE = 'RFCN'
BACKBONE_SCOPE = inception_resnet_v2.SCOPE
NUM_ANCHORS = 9
FEATURE_STRIDE = 16
RPN_DEPTH = 512
RFCN_DEPTH = 1024
DEFAULT_K = 7


def rfcn_arg_scope(weight_decay=0.0005):
    """The new layers: 1x1 / 3x3 SAME convolutions with biases, L2 decay, no batch norm."""
    with slim.arg_scope([slim.conv2d], padding='SAME', normalizer_fn=None,
                        weights_regularizer=slim.l2_regularizer(weight_decay),
                        biases_initializer=tf.zeros_initializer(),
                        weights_initializer=tf.random_normal_initializer(stddev=0.01)) as scope:
        return scope


def rfcn_inception_resnet(inputs, num_classes, k=DEFAULT_K, num_anchors=NUM_ANCHORS,
                          depth_multiplier=1.0, repeats=inception_resnet_v2.DEFAULT_REPEATS,
                          weight_decay=0.0005, train_batch_norm=False):
    """The backbone, RPN heads and position-sensitive maps.

    Args:
      inputs: float32 ``[batch, height, width, 3]`` in [-1, 1] (slim's Inception convention).
      num_classes: classes including the background (C + 1).
      k: position-sensitive bins per side (the paper: 7; the seed port: 3).
      depth_multiplier, repeats: thin the backbone (and the new layers) for tests.
      train_batch_norm: batch norm's batch statistics and a trainable beta (False: frozen wholly,
        its moving averages and beta as loaded, as the release's use_global_stats and lr_mult 0).

    Returns:
      (class_maps ``[batch, h, w, k*k*num_classes]``, end_points with ``objectness`` ``[batch, h,
      w, 2 * num_anchors]``, ``box_codes`` ``[batch, h, w, 4 * num_anchors]``, ``class_maps``,
      ``box_maps`` ``[batch, h, w, 4*k*k]``, ``rpn_features`` and ``rfcn_features``), h and w
      ceil(input / 16).
    """
    with slim.arg_scope(inception_resnet_v2.inception_resnet_v2_arg_scope(
            weight_decay=weight_decay, is_training=train_batch_norm,
            batch_norm_trainable=train_batch_norm)):
        features, end_points = inception_resnet_v2.inception_resnet_v2_base(
            inputs, output_stride=FEATURE_STRIDE, align_feature_maps=True,
            depth_multiplier=depth_multiplier, repeats=repeats)
    with tf.variable_scope(HEAD_SCOPE), slim.arg_scope(rfcn_arg_scope(weight_decay)):
        rpn = slim.conv2d(end_points['PreAuxLogits'], scaled_depth(RPN_DEPTH, depth_multiplier), 3,
                          scope='rpn_conv_3x3')
        end_points['objectness'] = slim.conv2d(rpn, 2 * num_anchors, 1, activation_fn=None,
                                               scope='rpn_cls_score')
        end_points['box_codes'] = slim.conv2d(rpn, 4 * num_anchors, 1, activation_fn=None,
                                              scope='rpn_bbox_pred')
        net = slim.conv2d(features, scaled_depth(RFCN_DEPTH, depth_multiplier), 1, scope='conv_new_1')
        end_points['class_maps'] = slim.conv2d(net, k * k * num_classes, 1, activation_fn=None,
                                               scope='rfcn_cls')
        end_points['box_maps'] = slim.conv2d(
            net, 4 * k * k, 1, activation_fn=None, scope='rfcn_bbox',
            weights_initializer=tf.random_normal_initializer(stddev=0.001))
        end_points['rpn_features'], end_points['rfcn_features'] = rpn, net
    return end_points['class_maps'], end_points
