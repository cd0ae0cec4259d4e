"""Layers shared by the single-shot detectors (SSD300, RefineDet320).

* ``PriorLayer``: one prediction source and its Caffe PriorBox parameters (pixels at the net's input
  size); ``num_priors_per_cell`` counts its priors per cell.

* ``l2_normalization``: Caffe SSD's Normalize layer (ParseNet, Liu et al. 2015) with
  ``across_spatial: false`` and ``channel_shared: false``.
* ``multibox_head``: one 3x3 convolution emitting ``num_priors * depth`` channels on a source map, flattened
  in Caffe's Permute(0, 2, 3, 1) + Flatten order, so predictions line up with the priors' order
  (row, column, prior).
"""
import collections

import tensorflow.compat.v1 as tf
import tf_slim as slim

from tf1zoo.ops import anchor_generator, winograd

# The end_point a head taps and its PriorBox parameters (max_size None: no sqrt(min * max) square).
PriorLayer = collections.namedtuple('PriorLayer',
                                    ['source', 'min_size', 'max_size', 'aspect_ratios', 'step'])

# Caffe's NormalizeLayer adds eps = 1e-10 to the sum of squares before the square root.
_CAFFE_NORMALIZE_EPS = 1e-10


def num_priors_per_cell(layer):
    """Caffe PriorBox's count: the min-size square, the sqrt(min*max) square, each ratio and its flip."""
    return anchor_generator.num_priors_per_cell(layer.min_size, layer.max_size or (), layer.aspect_ratios,
                                                flip=True)


def l2_normalization(inputs, scale_init, data_format='NHWC', scope=None):
    """x / sqrt(sum_c x^2 + 1e-10) * scale_c, a learnable scale per channel.

    Args:
      inputs: float32 [batch, height, width, channels] (NHWC) or [batch, channels, height, width].
      scale_init: initial value of every channel's scale (SSD conv4_3: 20; RefineDet conv4_3: 10,
        conv5_3: 8).
      scope: variable scope; the scale is ``<scope>/scale`` of shape [channels].

    Returns:
      A tensor of the shape of ``inputs``.
    """
    channel_axis = 1 if data_format == 'NCHW' else 3
    num_channels = inputs.shape[channel_axis]
    with tf.variable_scope(scope, 'L2Normalization', [inputs]):
        squared_sum = tf.reduce_sum(tf.square(inputs), axis=channel_axis, keepdims=True)
        normalised = inputs * tf.rsqrt(squared_sum + _CAFFE_NORMALIZE_EPS)
        scale = slim.model_variable('scale', shape=[num_channels], dtype=inputs.dtype,
                                    initializer=tf.constant_initializer(scale_init))
        if data_format == 'NCHW':
            scale = tf.reshape(scale, [1, -1, 1, 1])
        return normalised * scale


def multibox_head(source, num_priors, depth, scope, data_format='NHWC'):
    """A 3x3 prediction convolution, flattened to [batch, height * width * num_priors, depth].

    Args:
      source: the feature map, [batch, height, width, channels] (or NCHW).
      num_priors: priors per cell on this map.
      depth: values per prior (4 box offsets, or the number of classes including background).
      scope: the Caffe layer name, e.g. 'conv4_3_norm_mbox_loc'.

    Returns:
      float32 [batch, height * width * num_priors, depth], in (row, column, prior) order.
    """
    # winograd.conv2d is slim.conv2d unless the arg_scope turns Winograd on (CPU inference).
    net = winograd.conv2d(source, num_priors * depth, [3, 3], activation_fn=None, normalizer_fn=None,
                          scope=scope)
    if data_format == 'NCHW':
        net = tf.transpose(net, [0, 2, 3, 1])
    batch_size = tf.shape(net)[0]
    return tf.reshape(net, [batch_size, -1, depth])
