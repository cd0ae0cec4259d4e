"""VGG16 body shared by SSD300 and RefineDet320 (Simonyan & Zisserman 2015; the SSD "fc-reduced" form).

Variables follow tf-slim's published ``vgg_16.ckpt`` (``vgg_16/conv1/conv1_1/weights``, ...), so slim's
ImageNet weights initialise conv1-conv5 by name. fc6/fc7 are the "fc-reduced" layers of ParseNet/SSD:
fc6 a 3x3 convolution with 1024 outputs and dilation, fc7 a 1x1 convolution with 1024 outputs (their
shapes differ from slim's fully connected fc6/fc7, so those are excluded when loading slim's checkpoint,
and filled from the converted Caffe base instead).

Caffe pools in ceil mode and pads convolutions symmetrically; where TF's SAME padding differs (stride-2
windows on even inputs) the layers here pad explicitly (see ``caffe_padded_conv2d``).
"""
import math

import tensorflow.compat.v1 as tf
import tf_slim as slim

from tf1zoo.ops import winograd

# (block name, number of 3x3 convolutions, output channels) of VGG16's five blocks.
_VGG16_BLOCKS = (('conv1', 2, 64), ('conv2', 2, 128), ('conv3', 3, 256), ('conv4', 3, 512),
                 ('conv5', 3, 512))
_FC_REDUCED_DEPTH = 1024


def scaled_depth(depth, depth_multiplier, min_depth=8):
    """Channel count of a layer in a thinned net: ``depth * depth_multiplier``, at least ``min_depth``."""
    return max(int(math.ceil(depth * depth_multiplier)), min(depth, min_depth))


def _pad_spatial(inputs, pad, data_format):
    if data_format == 'NCHW':
        paddings = [[0, 0], [0, 0], [pad, pad], [pad, pad]]
    else:
        paddings = [[0, 0], [pad, pad], [pad, pad], [0, 0]]
    return tf.pad(inputs, paddings)


def caffe_padded_conv2d(inputs, num_outputs, kernel_size, stride, pad, scope, data_format='NHWC'):
    """A convolution with Caffe's symmetric zero padding ``pad`` on every side, then VALID.

    TF's SAME padding puts the odd pixel at the bottom/right, so on a 10x10 input a 3x3/s2 convolution
    with Caffe's pad 1 (SSD's conv7_2) samples other pixels than SAME would; explicit padding
    reproduces Caffe exactly for any input size.
    """
    if pad:
        inputs = _pad_spatial(inputs, pad, data_format)
    return slim.conv2d(inputs, num_outputs, kernel_size, stride=stride, padding='VALID',
                       scope=scope)


def caffe_conv_stack(net, end_points, layers, depth_multiplier=1.0, data_format='NHWC'):
    """Convolutions after fc7 (SSD's and RefineDet's extra layers), each recorded in ``end_points``.

    Args:
      layers: (Caffe name, output depth, kernel, stride, Caffe pad) per convolution, in order.

    Returns:
      the last layer's tensor.
    """
    for name, depth, kernel, stride, pad in layers:
        net = caffe_padded_conv2d(net, scaled_depth(depth, depth_multiplier), [kernel, kernel], stride,
                                  pad, scope=name, data_format=data_format)
        end_points[name] = net
    return net


def vgg_16_base(inputs, pool5_stride=1, fc6_dilation=6, depth_multiplier=1.0,
                final_endpoint='fc7', data_format='NHWC', scope='vgg_16'):
    """VGG16 conv1_1 .. fc7 in the SSD/RefineDet form, as Caffe defines it.

    SSD300 (``ssd_pascal.py``): pool5 3x3/s1/pad 1, fc6 dilation 6, so fc7 keeps conv5's stride 16.
    RefineDet320 (``VGG16_VOC2007_320.py``): pool5 2x2/s2, fc6 dilation 3, so fc7 has stride 32.

    Args:
      inputs: float32 tensor [batch, height, width, 3] (or [batch, 3, height, width] for NCHW), already
        normalised by the preprocessing's channel convention.
      pool5_stride: 1 (SSD: 3x3 window, pad 1) or 2 (RefineDet: 2x2 window).
      fc6_dilation: dilation of fc6's 3x3 kernel.
      depth_multiplier: scales every layer's channel count (1.0 is the paper's net; thin variants
        train on a CPU).
      final_endpoint: the last layer to build, e.g. 'conv5_3' or 'fc7'.
      data_format: 'NHWC' (CPU) or 'NCHW' (GPU); must match the arg_scope's.
      scope: variable scope; keep 'vgg_16' so slim's checkpoint loads by name.

    Returns:
      net: the final endpoint's tensor.
      end_points: dict from Caffe layer names ('conv1_1' .. 'conv5_3', 'pool5', 'fc6', 'fc7') to tensors.
    """
    end_points = {}
    with tf.variable_scope(scope, 'vgg_16', [inputs]):
        net = inputs
        for block, num_convs, depth in _VGG16_BLOCKS:
            with tf.variable_scope(block):
                for index in range(1, num_convs + 1):
                    name = '%s_%d' % (block, index)
                    # slim.conv2d unless the arg_scope turns Winograd on (see vgg_arg_scope).
                    net = winograd.conv2d(net, scaled_depth(depth, depth_multiplier), [3, 3],
                                          scope=name)
                    end_points[name] = net
                    if name == final_endpoint:
                        return net, end_points
            net = _vgg_pool(net, block, pool5_stride)
            end_points['pool' + block[-1]] = net
        fc_depth = scaled_depth(_FC_REDUCED_DEPTH, depth_multiplier)
        net = winograd.conv2d(net, fc_depth, [3, 3], rate=fc6_dilation, scope='fc6')
        end_points['fc6'] = net
        if final_endpoint == 'fc6':
            return net, end_points
        net = slim.conv2d(net, fc_depth, [1, 1], scope='fc7')
        end_points['fc7'] = net
    return net, end_points


def _vgg_pool(net, block, pool5_stride):
    """Max pooling after a block; SAME reproduces Caffe's ceil mode (75 -> 38 at SSD300's pool3)."""
    if block == 'conv5' and pool5_stride == 1:
        return slim.max_pool2d(net, [3, 3], stride=1, padding='SAME', scope='pool5')
    return slim.max_pool2d(net, [2, 2], stride=2, padding='SAME', scope='pool' + block[-1])


WEIGHT_INITIALIZERS = ('xavier', 'he')


def weights_initializer(name):
    """'xavier' (Caffe's ``xavier`` filler, the released models' choice) or 'he' (He et al. 2015,
    variance 2 / fan_in: keeps the signal of a deep plain ReLU body alive when it is trained from
    scratch instead of from ImageNet weights)."""
    if name == 'xavier':
        return slim.xavier_initializer()
    if name == 'he':
        return slim.variance_scaling_initializer(factor=2.0, mode='FAN_IN')
    raise ValueError('weights initializer must be one of %s, got %r' % (WEIGHT_INITIALIZERS, name))


# Moving-average decay of the optional batch norm. Short from-scratch runs (the CPU demo: ~850 steps)
# need statistics that follow the weights closely; slim's 0.999 would still carry a third of the
# initial statistics after 1,000 steps.
BATCH_NORM_DECAY = 0.9


def vgg_arg_scope(weight_decay=0.0005, data_format='NHWC', weights_init='xavier', batch_norm=False,
                  is_training=True, winograd_tile_size=None):
    """Caffe SSD's training set-up: L2 weight decay 5e-4, Xavier weights, zero biases, ReLU, SAME.

    ``batch_norm`` adds batch normalisation after every convolution of the arg_scope (ScratchDet,
    Zhu et al. 2019: what lets a VGG16 detector train from scratch); the released Caffe models have
    none, so it is off for them and for their converted weights. Prediction heads opt out
    (``normalizer_fn=None``). ``is_training`` selects batch or moving statistics.

    ``winograd_tile_size`` (None, 2, 4, 6 or `winograd.ADAPTIVE`): the 3x3 stride-1 convolutions of
    the body, fc6 and the heads with enough input channels (`winograd.MIN_INPUT_CHANNELS`) run as
    Winograd F(m x m, 3 x 3) (`ops.winograd`; the same variables and, up to rounding, the same
    outputs), a CPU inference speed-up where TF runs oneDNN's kernels. None: TF's direct convolutions.
    Outside training the transformed filters are cached in local variables: run
    ``tf.local_variables_initializer()`` after restoring the weights.
    """
    normalizer = {}
    if batch_norm:
        normalizer = dict(normalizer_fn=slim.batch_norm, normalizer_params=dict(
            is_training=is_training, decay=BATCH_NORM_DECAY, scale=True, fused=True,
            data_format=data_format))
    with slim.arg_scope([slim.conv2d, slim.conv2d_transpose, winograd.conv2d], **normalizer,
                        activation_fn=tf.nn.relu,
                        weights_regularizer=slim.l2_regularizer(weight_decay),
                        weights_initializer=weights_initializer(weights_init),
                        biases_initializer=tf.zeros_initializer(),
                        padding='SAME',
                        data_format=data_format):
        with slim.arg_scope([slim.max_pool2d], data_format=data_format), \
                slim.arg_scope([winograd.conv2d], tile_size=winograd_tile_size,
                               cache_filters=is_training is False) as scope:
            return scope
