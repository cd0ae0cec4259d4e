"""The VGG arg_scope's optional batch norm against a NumPy reference, in training and inference mode."""
import numpy as np
import tensorflow.compat.v1 as tf
import tf_slim as slim

from tf1zoo.nets import vgg
from tf1zoo.ops import winograd

EPSILON = 0.001  # slim.batch_norm's default


def _conv_bn_relu(inputs, is_training):
    with slim.arg_scope(vgg.vgg_arg_scope(batch_norm=True, is_training=is_training)):
        return slim.conv2d(inputs, 2, [1, 1], scope='conv', reuse=tf.AUTO_REUSE)


def test_batch_norm_uses_batch_statistics_in_training_and_moving_ones_at_inference():
    rng = np.random.default_rng(0)
    images = rng.normal(3.0, 2.0, size=(4, 5, 5, 3)).astype(np.float32)
    kernel = rng.normal(size=(1, 1, 3, 2)).astype(np.float32)
    gamma, beta = np.array([1.5, 0.5], np.float32), np.array([0.2, -0.1], np.float32)
    moving_mean, moving_variance = np.array([1.0, -2.0], np.float32), np.array([4.0, 0.25], np.float32)
    with tf.Graph().as_default():
        inputs = tf.constant(images)
        training = _conv_bn_relu(inputs, is_training=True)
        inference = _conv_bn_relu(inputs, is_training=False)
        variables = {v.op.name: v for v in tf.global_variables()}
        assert 'conv/biases' not in variables  # batch norm's beta replaces the bias
        update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            for name, value in (('weights', kernel), ('BatchNorm/gamma', gamma),
                                ('BatchNorm/beta', beta), ('BatchNorm/moving_mean', moving_mean),
                                ('BatchNorm/moving_variance', moving_variance)):
                variables['conv/' + name].load(value, session)
            trained, inferred = session.run([training, inference])
            session.run(update_ops)
            updated_mean = session.run(variables['conv/BatchNorm/moving_mean'])
    conv = images @ kernel[0, 0]
    batch_mean, batch_variance = conv.mean(axis=(0, 1, 2)), conv.var(axis=(0, 1, 2))
    expected_training = np.maximum(
        gamma * (conv - batch_mean) / np.sqrt(batch_variance + EPSILON) + beta, 0)
    expected_inference = np.maximum(
        gamma * (conv - moving_mean) / np.sqrt(moving_variance + EPSILON) + beta, 0)
    np.testing.assert_allclose(trained, expected_training, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(inferred, expected_inference, rtol=1e-4, atol=1e-4)
    decay = vgg.BATCH_NORM_DECAY
    np.testing.assert_allclose(updated_mean, decay * moving_mean + (1 - decay) * batch_mean,
                               rtol=1e-4, atol=1e-4)


def test_without_batch_norm_convolutions_keep_their_biases():
    with tf.Graph().as_default():
        with slim.arg_scope(vgg.vgg_arg_scope()):
            slim.conv2d(tf.zeros([1, 4, 4, 3]), 2, [3, 3], scope='conv')
        names = {v.op.name for v in tf.global_variables()}
    assert names == {'conv/weights', 'conv/biases'}


def test_a_tensor_is_training_selects_the_statistics_and_never_caches_winograd_filters():
    # batch norm takes is_training as a tensor; the Winograd filter cache (inference only) must
    # neither break on one nor be built for one.
    images = np.random.default_rng(3).normal(size=(2, 4, 4, 128)).astype(np.float32)
    with tf.Graph().as_default():
        is_training = tf.placeholder(tf.bool, [])
        with slim.arg_scope(vgg.vgg_arg_scope(batch_norm=True, is_training=is_training,
                                              winograd_tile_size=4)):
            outputs = winograd.conv2d(tf.constant(images), 2, [3, 3], scope='conv')
        assert tf.local_variables() == []
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            training, inference = (session.run(outputs, {is_training: value}) for value in (True, False))
    # Batch statistics make every channel's mean over the batch ~0 before the ReLU; the initial
    # moving statistics (0, 1) do not.
    assert not np.allclose(training, inference)
