"""Winograd convolutions (`ops/winograd.py`) against TensorFlow's own, one VGG16 layer shape at a time.

`time_layer` times, for one stride-1 3x3 layer shape, TF's direct convolution, each Winograd tile
size F(m x m, 3 x 3) with its filters transformed beforehand (as the layer's cache holds them), and
the batched matmul alone, and checks that the outputs agree (what benchmark_winograd.py prints).
"""
import numpy as np
import tensorflow.compat.v1 as tf

from tf1zoo.engine import benchmarking
from tf1zoo.ops import winograd

# (VGG16 layer, input size, input channels, output channels): one stride-1 3x3 layer per block.
VGG16_LAYERS = (('conv1_2', 300, 64, 64), ('conv2_1', 150, 64, 128), ('conv2_2', 150, 128, 128),
                 ('conv3_2', 75, 256, 256), ('conv4_2', 38, 512, 512), ('conv5_2', 19, 512, 512))


def time_layer(batch_size, size, in_channels, out_channels, warmup_iters=1, num_iters=5):
    """Milliseconds of the direct and the Winograd convolutions of one layer shape, and their errors.

    Each is a net's layer at inference: convolution, bias and ReLU (which oneDNN fuses into the direct
    convolution, and `ops.winograd` into its output transform), the Winograd filters transformed once
    beforehand (as `winograd.conv2d`'s cache holds them).
    """
    rng = np.random.default_rng(0)
    result = {}
    with tf.Graph().as_default():
        inputs = tf.Variable(rng.normal(size=(batch_size, size, size, in_channels)).astype(np.float32))
        kernel = tf.Variable((rng.normal(size=(3, 3, in_channels, out_channels))
                              / np.sqrt(9 * in_channels)).astype(np.float32))
        biases = tf.Variable(rng.normal(size=out_channels).astype(np.float32))
        direct = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(inputs, kernel, 1, 'SAME'), biases))
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            reference = session.run(direct)
            result['direct_ms'] = _milliseconds(session, direct, warmup_iters, num_iters)
            for tile_size in winograd.TILE_SIZES:
                variant = 'F%d' % tile_size
                filters = tf.Variable(winograd.transform_filters(kernel, tile_size))
                session.run(filters.initializer)
                outputs, stages = winograd.winograd_conv2d(
                    inputs, filters, tile_size, biases=biases, activation_fn=tf.nn.relu,
                    return_stages=True, filters_transformed=True)
                # The batched matmul alone: its operands cached in variables, so that only it runs.
                transformed = tf.Variable(stages['transformed_tiles'])
                session.run(transformed.initializer)
                result[variant] = {
                    'ms': _milliseconds(session, outputs, warmup_iters, num_iters),
                    'batched_matmul_ms': _milliseconds(session, tf.matmul(transformed, filters), warmup_iters,
                                                       num_iters),
                    'max_relative_error': float(np.abs(session.run(outputs) - reference).max()
                                                / np.abs(reference).max())}
    result['direct_gflops_per_second'] = (2 * batch_size * size * size * in_channels * out_channels * 9
                                          / result['direct_ms'] / 1e6)
    return result


def _milliseconds(session, tensor, warmup_iters, num_iters):
    return 1e3 * benchmarking.median_seconds(lambda: session.run(tensor.op), warmup_iters, num_iters)
