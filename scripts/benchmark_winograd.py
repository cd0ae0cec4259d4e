"""Winograd convolutions (`ops/winograd.py`) vs TensorFlow's own 3x3 convolutions, per VGG16 layer shape.

    python scripts/benchmark_winograd.py --output_json=benchmarks/winograd_2core_cpu.json

Winograd's minimal filtering (Lavin & Gray, CVPR 2016; `ops/winograd.py`) computes an m x m output
tile of a 3x3 convolution with (m + 2)^2 multiplies per channel pair instead of 9 m^2: 2.25x fewer for
F(2x2, 3x3), 4x fewer for F(4x4, 3x3), at the cost of transforming tiles. For each stride-1 3x3 layer
shape of VGG16 at 300 x 300 this script times TF's direct convolution, both Winograd forms and their
batched matmul alone, and checks that the outputs agree; run it with and without
``TF_ENABLE_ONEDNN_OPTS=1`` (the kernels TF uses decide the answer). Prints a table and writes JSON.
"""
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
import os
import platform

import numpy as np
import tensorflow.compat.v1 as tf
from absl import flags

from tf1zoo.ops import winograd
from tf1zoo.scripts import benchmark_speed, benchmark_torchvision, checkpoint_info, script_flags

FLAGS = flags.FLAGS

# (VGG16 layer, input size, input channels, output channels): one stride-1 3x3 layer per block.
_VGG16_LAYERS = (('conv1_2', 300, 64, 64), ('conv2_1', 150, 64, 128), ('conv2_2', 150, 128, 128),
                 ('conv3_2', 75, 256, 256), ('conv4_2', 38, 512, 512), ('conv5_2', 19, 512, 512))


def define_flags(flag_values=flags.FLAGS):
    define = script_flags.Definer(flag_values)
    define.list('batch_sizes', ['1', '8'], 'Batch sizes.')
    define.list('layers', [layer[0] for layer in _VGG16_LAYERS], 'VGG16 layers whose shapes are timed.')
    define.integer('warmup_iters', 1, 'Untimed runs first.')
    define.integer('num_iters', 5, 'Timed runs (the median is reported).')
    define.string('output_json', None, 'Where to write the results (optional).')


def time_layer(batch_size, size, in_channels, out_channels, values):
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
            result['direct_ms'] = _milliseconds(session, direct, values)
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
                    'ms': _milliseconds(session, outputs, values),
                    'batched_matmul_ms': _milliseconds(session, tf.matmul(transformed, filters), values),
                    'max_relative_error': float(np.abs(session.run(outputs) - reference).max()
                                                / np.abs(reference).max())}
    result['direct_gflops_per_second'] = (2 * batch_size * size * size * in_channels * out_channels * 9
                                          / result['direct_ms'] / 1e6)
    return result


def _milliseconds(session, tensor, values):
    return 1e3 * benchmark_torchvision.median_seconds(lambda: session.run(tensor.op), values.warmup_iters,
                                                      values.num_iters)


def run(values):
    layers = {layer[0]: layer[1:] for layer in _VGG16_LAYERS}
    unknown = sorted(set(values.layers) - set(layers))
    if unknown:
        raise ValueError('--layers: unknown %s; known: %s' % (', '.join(unknown), ', '.join(layers)))
    result = {'machine': {'cpu_count': os.cpu_count(), 'processor': platform.processor() or
                          platform.machine(), **benchmark_speed.cpu_description(),
                          'tensorflow': tf.__version__,
                          'TF_ENABLE_ONEDNN_OPTS': os.environ.get('TF_ENABLE_ONEDNN_OPTS')},
              'layers': {}}
    for name in values.layers:
        for batch_size in map(int, values.batch_sizes):
            size, in_channels, out_channels = layers[name]
            timing = time_layer(batch_size, size, in_channels, out_channels, values)
            result['layers']['%s_batch%d' % (name, batch_size)] = timing
            print('%s %3dx%-3d %3d->%-3d batch %d: direct %7.1f ms (%3.0f GFLOP/s); %s'
                  % (name, size, size, in_channels, out_channels, batch_size, timing['direct_ms'],
                     timing['direct_gflops_per_second'], '; '.join(
                         '%s %7.1f ms = %.2fx direct (its batched matmul %.1f ms), error %.0e'
                         % (variant, timing[variant]['ms'], timing['direct_ms'] / timing[variant]['ms'],
                            timing[variant]['batched_matmul_ms'], timing[variant]['max_relative_error'])
                         for variant in ('F%d' % size for size in winograd.TILE_SIZES))), flush=True)
    if values.output_json:
        checkpoint_info.write_json_atomically(values.output_json, result)
    return result


if __name__ == '__main__':
    script_flags.run_as_program(define_flags, run)
