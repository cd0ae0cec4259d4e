"""A small convolutional classifier: the feature extractor of DCGAN's measures where no InceptionV3
checkpoint can be had (FID on its features, mode coverage by its predictions).

    images [batch, size, size, 3] in [-1, 1]
      -> conv1 3x3 32, pool 2 -> conv2 3x3 64, pool 2 -> conv3 3x3 128, pool 2 -> conv4 3x3 128
      -> global average pool: ``features`` [batch, 128] -> logits (fully connected, num_classes)

Batch norm after each convolution, ReLU. Not a paper's net: the repository's own, small enough to
train on two CPU cores in a minute on the embedded data.
"""
import tensorflow.compat.v1 as tf
import tf_slim as slim

FEATURES = 'features'
WIDTHS = (32, 64, 128, 128)


def small_classifier_arg_scope(is_training=True, weight_decay=1e-4):
    """He initialisation, L2 weight decay, batch norm (batch statistics in training)."""
    with slim.arg_scope([slim.conv2d, slim.fully_connected],
                        weights_initializer=slim.variance_scaling_initializer(),
                        weights_regularizer=slim.l2_regularizer(weight_decay)):
        with slim.arg_scope([slim.conv2d], kernel_size=[3, 3], padding='SAME',
                            normalizer_fn=slim.batch_norm, activation_fn=tf.nn.relu):
            # Decay 0.9: the moving statistics must settle within a few hundred steps.
            with slim.arg_scope([slim.batch_norm], is_training=is_training, scale=True, decay=0.9,
                                fused=True) as scope:
                return scope


def small_classifier(images, num_classes, is_training=True, reuse=None, scope='SmallClassifier'):
    """(logits float32 ``[batch, num_classes]``, end_points with ``features`` ``[batch, 128]``)."""
    end_points = {}
    with tf.variable_scope(scope, 'SmallClassifier', [images], reuse=reuse):
        net = images
        for index, width in enumerate(WIDTHS, start=1):
            net = slim.conv2d(net, width, scope='conv%d' % index)
            if index < len(WIDTHS):
                net = slim.max_pool2d(net, [2, 2], scope='pool%d' % index)
        features = tf.reduce_mean(net, axis=[1, 2], name='features')
        end_points[FEATURES] = features
        logits = slim.fully_connected(features, num_classes, activation_fn=None, scope='logits')
        return logits, end_points
