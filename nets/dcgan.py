"""DCGAN's generator and discriminator (Radford, Metz and Chintala, ICLR 2016, sec. 3-4 and Figure 1).

Generator (scope ``Generator``), for 64 x 64 images::

    z [batch, 100] -> project (fully connected) -> 4 x 4 x 1024, batch norm, ReLU
      -> deconv1 5x5/2 8 x 8 x 512 -> deconv2 16 x 16 x 256 -> deconv3 32 x 32 x 128 (batch norm, ReLU)
      -> deconv4 5x5/2 64 x 64 x 3, tanh (no batch norm)

Discriminator (scope ``Discriminator``), its mirror::

    images [batch, 64, 64, 3] in [-1, 1] -> conv1 5x5/2 32 x 32 x 64 (no batch norm), leaky ReLU 0.2
      -> conv2 16 x 16 x 128 -> conv3 8 x 8 x 256 -> conv4 4 x 4 x 512 (batch norm, leaky ReLU 0.2)
      -> logit (fully connected to 1, linear)

No pooling and no fully connected hidden layer (the paper's guidelines); weights from N(0, 0.02),
zero biases. Other sizes change only the number of stride-2 stages, log2(size / 4): 32 x 32 has
three (project 4 x 4 x 512; D 64, 128, 256), 128 x 128 five (project 4 x 4 x 2048; D up to 1024):
the last hidden G layer and the first D layer keep 128 and 64 channels, each stage doubles them
towards the 4 x 4 end. ``channels`` is the image's (3, or 1 for MNIST); ``depth_multiplier`` thins
every hidden layer. ``num_stages`` and the widths come from `stage_widths`, one rule for G and D.
"""
import math

import tensorflow.compat.v1 as tf
import tf_slim as slim

Z_DIM = 100
PROJECTED_SIZE = 4
LEAKY_SLOPE = 0.2
WEIGHT_STDDEV = 0.02
# The last hidden generator layer's and the first discriminator layer's width at 64 x 64 (Figure 1).
GENERATOR_BASE_WIDTH = 128
DISCRIMINATOR_BASE_WIDTH = 64
BATCH_NORM_DECAY = 0.9
BATCH_NORM_EPSILON = 1e-5


def num_stages(image_size):
    """The stride-2 stages between the 4 x 4 projection and an ``image_size`` image: log2(size / 4)."""
    stages = math.log2(image_size / PROJECTED_SIZE) if image_size >= 2 * PROJECTED_SIZE else 0
    if stages != int(stages) or stages < 1:
        raise ValueError('image_size must be 4 x a power of two >= 8 (32, 64, 128, ...), got %r'
                         % (image_size,))
    return int(stages)


def stage_widths(image_size, base_width, depth_multiplier=1.0):
    """Channel widths from the image end towards the 4 x 4 end: ``base_width`` doubled per stage,
    thinned by ``depth_multiplier`` (at least 1). 64 x 64 with base 64: (64, 128, 256, 512)."""
    return tuple(max(1, int(base_width * 2 ** stage * depth_multiplier))
                 for stage in range(num_stages(image_size)))


def dcgan_arg_scope(is_training=True):
    """N(0, 0.02) weights, zero biases, batch norm (decay 0.9, epsilon 1e-5, with gamma) using batch
    statistics in training; 5x5 kernels, stride 2, SAME padding for every (de)convolution."""
    initializer = tf.random_normal_initializer(stddev=WEIGHT_STDDEV)
    with slim.arg_scope([slim.conv2d, slim.conv2d_transpose, slim.fully_connected],
                        weights_initializer=initializer, biases_initializer=tf.zeros_initializer()):
        with slim.arg_scope([slim.conv2d, slim.conv2d_transpose], kernel_size=[5, 5], stride=2,
                            padding='SAME'):
            with slim.arg_scope([slim.batch_norm], is_training=is_training, decay=BATCH_NORM_DECAY,
                                epsilon=BATCH_NORM_EPSILON, scale=True, fused=True) as scope:
                return scope


def generator(z, image_size=64, channels=3, depth_multiplier=1.0, is_training=True, reuse=None,
              scope='Generator'):
    """DCGAN's generator; call it inside `dcgan_arg_scope`.

    Args:
      z: float32 ``[batch, Z_DIM]`` (the paper: uniform in [-1, 1]).
      image_size: the output's height and width (4 x a power of two).
      channels: the output's channels.
      depth_multiplier: thins every hidden layer.
      is_training: batch norm's statistics (through the arg_scope) and its updates.

    Returns:
      (images float32 ``[batch, image_size, image_size, channels]`` in [-1, 1] (tanh), end_points).
    """
    widths = stage_widths(image_size, GENERATOR_BASE_WIDTH, depth_multiplier)
    end_points = {}
    with tf.variable_scope(scope, 'Generator', [z], reuse=reuse) as sc:
        net = slim.fully_connected(z, PROJECTED_SIZE * PROJECTED_SIZE * widths[-1], activation_fn=None,
                                   scope='project')
        net = tf.reshape(net, [-1, PROJECTED_SIZE, PROJECTED_SIZE, widths[-1]])
        net = tf.nn.relu(slim.batch_norm(net, scope='project/BatchNorm'))
        end_points[sc.name + '/project'] = net
        outputs = list(reversed(widths[:-1])) + [channels]
        for index, width in enumerate(outputs, start=1):
            name = 'deconv%d' % index
            if index < len(outputs):
                net = slim.conv2d_transpose(net, width, normalizer_fn=slim.batch_norm,
                                            activation_fn=tf.nn.relu, scope=name)
            else:
                net = slim.conv2d_transpose(net, width, activation_fn=tf.tanh, scope=name)
            end_points[sc.name + '/' + name] = net
        return net, end_points


def discriminator(images, depth_multiplier=1.0, is_training=True, reuse=None, scope='Discriminator'):
    """DCGAN's discriminator; call it inside `dcgan_arg_scope`.

    Args:
      images: float32 ``[batch, size, size, channels]`` in [-1, 1]; size 4 x a power of two.
      depth_multiplier: thins every hidden layer.
      is_training: batch norm's statistics (through the arg_scope) and its updates.
      reuse: True for the second call (real and generated images share the variables).

    Returns:
      (logits float32 ``[batch]``, end_points with each convolution's output, for the feature probe).
    """
    size = images.shape.as_list()[1]
    widths = stage_widths(size, DISCRIMINATOR_BASE_WIDTH, depth_multiplier)
    end_points = {}
    with tf.variable_scope(scope, 'Discriminator', [images], reuse=reuse) as sc:
        net = images
        for index, width in enumerate(widths, start=1):
            name = 'conv%d' % index
            normalizer = None if index == 1 else slim.batch_norm
            net = slim.conv2d(net, width, normalizer_fn=normalizer,
                              activation_fn=lambda x: tf.nn.leaky_relu(x, alpha=LEAKY_SLOPE), scope=name)
            end_points[sc.name + '/' + name] = net
        logits = slim.fully_connected(slim.flatten(net), 1, activation_fn=None, scope='logit')
        return tf.squeeze(logits, axis=1), end_points


def sample_z(batch_size, seed=None):
    """z uniform in [-1, 1], ``[batch_size, Z_DIM]`` (the paper's prior)."""
    return tf.random.uniform([batch_size, Z_DIM], -1.0, 1.0, seed=seed)
