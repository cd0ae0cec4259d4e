"""Inception-ResNet-v2 (Szegedy, Ioffe, Vanhoucke and Alemi 2016) as tf-slim publishes it.

Every variable is named and shaped as in slim's ``inception_resnet_v2_2016_08_30.ckpt``
(``InceptionResnetV2/Conv2d_1a_3x3/weights``, ``.../Mixed_5b/Branch_1/Conv2d_0b_5x5/BatchNorm/beta``,
``.../Repeat/block35_1/...``, ``Repeat_1/block17_*``, ``Repeat_2/block8_*``, ``Block8``,
``Conv2d_7b_1x1``, ``AuxLogits``, ``Logits/Logits``), so that checkpoint loads by name into the
classifier and into the detectors built on `inception_resnet_v2_base`. Batch norm has no gamma
(slim's ``scale=False``): ``beta``, ``moving_mean``, ``moving_variance``; the residual blocks' last
1x1 convolutions ("up") have biases and neither batch norm nor activation.

Layout (299 x 299 input, VALID padding): 149 x 149 x 32, 147 x 147 x 32, 147 x 147 x 64, 73 x 73,
73 x 73 x 80, 71 x 71 x 192, 35 x 35 (Mixed_5b: 320), 10 x block35 (scale 0.17), 17 x 17 (Mixed_6a:
1088), 20 x block17 (scale 0.10), 8 x 8 (Mixed_7a: 2080), 9 x block8 (scale 0.20), Block8 (no
activation), 8 x 8 x 1536.

``output_stride`` is the stride of the last end point computed (slim's argument of the same name
counts to PreAuxLogits only): 32 is the classifier; 16 runs Mixed_7a's stride-2 layers at stride 1
and dilates every later convolution by 2 (R-FCN's fully convolutional use of the last block, as its
paper does with ResNet's conv5); 8 does the same from Mixed_6a on. Dilation changes no variable.
``align_feature_maps`` pads every layer SAME (the TF Object Detection API's detection extractors), so
a map is ceil(input / stride) on each side.
"""
import tensorflow.compat.v1 as tf
import tf_slim as slim

from tf1zoo.nets.vgg import scaled_depth

SCOPE = 'InceptionResnetV2'
# Residual scales of the three block kinds (the paper's section 3.3; slim's values).
BLOCK35_SCALE, BLOCK17_SCALE, BLOCK8_SCALE = 0.17, 0.10, 0.20
DEFAULT_REPEATS = (10, 20, 9)
END_POINTS = ('Conv2d_1a_3x3', 'Conv2d_2a_3x3', 'Conv2d_2b_3x3', 'MaxPool_3a_3x3', 'Conv2d_3b_1x1',
              'Conv2d_4a_3x3', 'MaxPool_5a_3x3', 'Mixed_5b', 'Mixed_6a', 'PreAuxLogits', 'Mixed_7a',
              'Conv2d_7b_1x1')


def _conv(depth, kernel, name, stride=1, padding='SAME'):
    return ('conv', depth, kernel, stride, padding, name)


def _pool(kind, name, stride, padding):
    return (kind, None, 3, stride, padding, name)


def _run_branch(net, layers, depth):
    for kind, channels, kernel, stride, padding, name in layers:
        if kind == 'conv':
            net = slim.conv2d(net, depth(channels), kernel, stride=stride, padding=padding, scope=name)
        elif kind == 'max':
            net = slim.max_pool2d(net, kernel, stride=stride, padding=padding, scope=name)
        else:
            net = slim.avg_pool2d(net, kernel, stride=stride, padding=padding, scope=name)
    return net


def _mixed(net, branches, depth):
    """Branch_0, Branch_1, ... of ``branches`` (layer lists) side by side, concatenated."""
    outputs = []
    for index, layers in enumerate(branches):
        with tf.variable_scope('Branch_%d' % index):
            outputs.append(_run_branch(net, layers, depth))
    return tf.concat(outputs, axis=3)


# The residual blocks' branches (slim's block35 / block17 / block8).
_BLOCK35 = ([_conv(32, 1, 'Conv2d_1x1')],
            [_conv(32, 1, 'Conv2d_0a_1x1'), _conv(32, 3, 'Conv2d_0b_3x3')],
            [_conv(32, 1, 'Conv2d_0a_1x1'), _conv(48, 3, 'Conv2d_0b_3x3'), _conv(64, 3, 'Conv2d_0c_3x3')])
_BLOCK17 = ([_conv(192, 1, 'Conv2d_1x1')],
            [_conv(128, 1, 'Conv2d_0a_1x1'), _conv(160, [1, 7], 'Conv2d_0b_1x7'),
             _conv(192, [7, 1], 'Conv2d_0c_7x1')])
_BLOCK8 = ([_conv(192, 1, 'Conv2d_1x1')],
           [_conv(192, 1, 'Conv2d_0a_1x1'), _conv(224, [1, 3], 'Conv2d_0b_1x3'),
            _conv(256, [3, 1], 'Conv2d_0c_3x1')])


def _stem(padding):
    return (_conv(32, 3, 'Conv2d_1a_3x3', 2, padding), _conv(32, 3, 'Conv2d_2a_3x3', 1, padding),
            _conv(64, 3, 'Conv2d_2b_3x3'), _pool('max', 'MaxPool_3a_3x3', 2, padding),
            _conv(80, 1, 'Conv2d_3b_1x1', 1, padding), _conv(192, 3, 'Conv2d_4a_3x3', 1, padding),
            _pool('max', 'MaxPool_5a_3x3', 2, padding))


_MIXED_5B = ([_conv(96, 1, 'Conv2d_1x1')],
             [_conv(48, 1, 'Conv2d_0a_1x1'), _conv(64, 5, 'Conv2d_0b_5x5')],
             [_conv(64, 1, 'Conv2d_0a_1x1'), _conv(96, 3, 'Conv2d_0b_3x3'), _conv(96, 3, 'Conv2d_0c_3x3')],
             [_pool('avg', 'AvgPool_0a_3x3', 1, 'SAME'), _conv(64, 1, 'Conv2d_0b_1x1')])


def _mixed_6a(stride, padding):  # Reduction-A
    return ([_conv(384, 3, 'Conv2d_1a_3x3', stride, padding)],
            [_conv(256, 1, 'Conv2d_0a_1x1'), _conv(256, 3, 'Conv2d_0b_3x3'),
             _conv(384, 3, 'Conv2d_1a_3x3', stride, padding)],
            [_pool('max', 'MaxPool_1a_3x3', stride, padding)])


def _mixed_7a(stride, padding):  # Reduction-B
    return ([_conv(256, 1, 'Conv2d_0a_1x1'), _conv(384, 3, 'Conv2d_1a_3x3', stride, padding)],
            [_conv(256, 1, 'Conv2d_0a_1x1'), _conv(288, 3, 'Conv2d_1a_3x3', stride, padding)],
            [_conv(256, 1, 'Conv2d_0a_1x1'), _conv(288, 3, 'Conv2d_0b_3x3'),
             _conv(320, 3, 'Conv2d_1a_3x3', stride, padding)],
            [_pool('max', 'MaxPool_1a_3x3', stride, padding)])


def _residual_block(net, branches, scale, depth, activation_fn=tf.nn.relu, scope=None):
    """net + scale * up(concat(branches)), then the activation (none for the final Block8)."""
    with tf.variable_scope(scope):
        mixed = _mixed(net, branches, depth)
        up = slim.conv2d(mixed, net.shape.as_list()[3], 1, normalizer_fn=None, activation_fn=None,
                         scope='Conv2d_1x1')
        net = net + scale * up
        return activation_fn(net) if activation_fn else net


def _repeat(net, count, branches, scale, depth, scope, block_name):
    """slim.repeat's scopes: ``<scope>/<block_name>_1`` ... ``_<count>``."""
    with tf.variable_scope(scope):
        for index in range(1, count + 1):
            net = _residual_block(net, branches, scale, depth, scope='%s_%d' % (block_name, index))
    return net


def inception_resnet_v2_base(inputs, final_endpoint='Conv2d_7b_1x1', output_stride=32,
                             align_feature_maps=False, depth_multiplier=1.0,
                             repeats=DEFAULT_REPEATS, scope=SCOPE):
    """The network up to ``final_endpoint``; call it inside `inception_resnet_v2_arg_scope`.

    Args:
      inputs: float32 ``[batch, height, width, 3]`` in [-1, 1] (slim's Inception preprocessing).
      final_endpoint: one of `END_POINTS` (PreAuxLogits: the 17 x 17 x 1088 map after Repeat_1).
      output_stride: 32, 16 or 8 (see the module docstring).
      align_feature_maps: SAME padding everywhere (detection); VALID on the reductions otherwise.
      depth_multiplier: thins every layer (1.0: the published net); ``repeats``: the number of
        block35, block17 and block8 blocks (thin test nets use fewer; names stay those of the first).

    Returns:
      (the final end point's tensor, {end point name: tensor}).
    """
    if output_stride not in (8, 16, 32):
        raise ValueError('output_stride must be 8, 16 or 32, got %r' % (output_stride,))
    if final_endpoint not in END_POINTS:
        raise ValueError('unknown final_endpoint %r (one of %s)' % (final_endpoint, ', '.join(END_POINTS)))
    padding = 'SAME' if align_feature_maps else 'VALID'
    depth = lambda channels: scaled_depth(channels, depth_multiplier)  # noqa: E731
    end_points = {}

    def done(name, net):
        end_points[name] = net
        return name == final_endpoint

    with tf.variable_scope(scope, SCOPE, [inputs]):
        with slim.arg_scope([slim.conv2d, slim.max_pool2d, slim.avg_pool2d], stride=1, padding='SAME'):
            # The stem (the paper's Figure 3, as slim builds it).
            net = inputs
            for layer in _stem(padding):
                net = _run_branch(net, [layer], depth)
                if done(layer[-1], net):
                    return net, end_points
            with tf.variable_scope('Mixed_5b'):
                net = _mixed(net, _MIXED_5B, depth)
            if done('Mixed_5b', net):
                return net, end_points
            net = _repeat(net, repeats[0], _BLOCK35, BLOCK35_SCALE, depth, 'Repeat', 'block35')
            # Reduction-A; at output stride 8 it keeps the resolution and later layers dilate.
            stride, rate = (1, 2) if output_stride == 8 else (2, 1)
            with tf.variable_scope('Mixed_6a'):
                net = _mixed(net, _mixed_6a(stride, padding), depth)
            if done('Mixed_6a', net):
                return net, end_points
            with slim.arg_scope([slim.conv2d], rate=rate):
                net = _repeat(net, repeats[1], _BLOCK17, BLOCK17_SCALE, depth, 'Repeat_1', 'block17')
            if done('PreAuxLogits', net):
                return net, end_points
            # Reduction-B; below output stride 32 it keeps the resolution and later layers dilate.
            stride = 1 if output_stride <= 16 else 2
            with slim.arg_scope([slim.conv2d], rate=rate), tf.variable_scope('Mixed_7a'):
                net = _mixed(net, _mixed_7a(stride, padding), depth)
            if done('Mixed_7a', net):
                return net, end_points
            rate *= 2 if stride == 1 else 1
            with slim.arg_scope([slim.conv2d], rate=rate):
                net = _repeat(net, repeats[2], _BLOCK8, BLOCK8_SCALE, depth, 'Repeat_2', 'block8')
                net = _residual_block(net, _BLOCK8, 1.0, depth, activation_fn=None, scope='Block8')
            net = slim.conv2d(net, depth(1536), 1, scope='Conv2d_7b_1x1')
            done('Conv2d_7b_1x1', net)
            return net, end_points


def inception_resnet_v2(inputs, num_classes=1001, is_training=True, dropout_keep_prob=0.8,
                        create_aux_logits=True, depth_multiplier=1.0, repeats=DEFAULT_REPEATS,
                        reuse=None, scope=SCOPE):
    """The ImageNet classifier (slim's 1001 classes: background + 1000); call it inside
    `inception_resnet_v2_arg_scope`.

    Returns:
      (logits float32 ``[batch, num_classes]``, end_points with ``AuxLogits``, ``PreLogitsFlatten``,
      ``Logits`` and ``Predictions`` besides the body's).
    """
    with tf.variable_scope(scope, SCOPE, [inputs], reuse=reuse) as sc:
        with slim.arg_scope([slim.batch_norm, slim.dropout], is_training=is_training):
            net, end_points = inception_resnet_v2_base(inputs, depth_multiplier=depth_multiplier,
                                                       repeats=repeats, scope=sc)
            if create_aux_logits and num_classes:
                with tf.variable_scope('AuxLogits'):
                    aux = slim.avg_pool2d(end_points['PreAuxLogits'], 5, stride=3, padding='VALID',
                                          scope='Conv2d_1a_3x3')
                    aux = slim.conv2d(aux, scaled_depth(128, depth_multiplier), 1, scope='Conv2d_1b_1x1')
                    aux = slim.conv2d(aux, scaled_depth(768, depth_multiplier),
                                      aux.shape.as_list()[1:3], padding='VALID', scope='Conv2d_2a_5x5')
                    aux = slim.fully_connected(slim.flatten(aux), num_classes, activation_fn=None,
                                               scope='Logits')
                    end_points['AuxLogits'] = aux
            with tf.variable_scope('Logits'):
                net = tf.reduce_mean(net, [1, 2], name='AvgPool_1a_8x8')  # slim: 8 x 8 VALID at 299
                net = slim.dropout(slim.flatten(net), dropout_keep_prob, scope='Dropout')
                end_points['PreLogitsFlatten'] = net
                logits = slim.fully_connected(net, num_classes, activation_fn=None, scope='Logits')
                end_points['Logits'] = logits
                end_points['Predictions'] = tf.nn.softmax(logits, name='Predictions')
    return logits, end_points


def inception_resnet_v2_arg_scope(weight_decay=0.00004, batch_norm_decay=0.9997,
                                  batch_norm_epsilon=0.001, is_training=None, batch_norm_trainable=True):
    """slim's defaults: L2 weight decay 4e-5 on weights and biases, ReLU, batch norm (decay 0.9997,
    epsilon 1e-3, no gamma) after every convolution; ``is_training`` (if given) sets batch norm's
    mode, and ``batch_norm_trainable=False`` with ``is_training=False`` freezes it wholly (its beta
    too), as detectors trained at one image per step do."""
    regularizer = slim.l2_regularizer(weight_decay)
    batch_norm_params = {'decay': batch_norm_decay, 'epsilon': batch_norm_epsilon, 'scale': False,
                         'fused': True, 'trainable': batch_norm_trainable}
    if is_training is not None:
        batch_norm_params['is_training'] = is_training
    with slim.arg_scope([slim.conv2d, slim.fully_connected], weights_regularizer=regularizer,
                        biases_regularizer=regularizer):
        with slim.arg_scope([slim.conv2d], activation_fn=tf.nn.relu, normalizer_fn=slim.batch_norm,
                            normalizer_params=batch_norm_params) as scope:
            return scope
