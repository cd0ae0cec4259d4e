"""Would Winograd convolutions, written in TensorFlow ops, beat TF's own 3x3 convolutions here?

    python scripts/benchmark_winograd.py --output_json=benchmarks/winograd_2core_cpu.json

An experiment for SSD300's speed target, not part of the detector: Winograd's minimal filtering
(Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", CVPR 2016) computes an m x m output
tile of a 3x3 convolution from an (m + 2) x (m + 2) input tile with (m + 2)^2 multiplies per channel
pair instead of 9 m^2: 2.25x fewer for F(2x2, 3x3), 4x fewer for F(4x4, 3x3). OpenCV's DNN and oneDNN
use it on CPUs; TensorFlow's CPU kernels do not. Here the three stages are TF ops: the input tiles
(``extract_patches``) and their transform (a matmul with the Kronecker product B^T (x) B^T), one batched
matmul per tile position with the transformed filters, and the output transform (A^T (x) A^T) with
``depth_to_space``. For each stride-1 3x3 layer shape of VGG16 at 300 x 300 the script times the
direct convolution, both Winograd forms and their batched matmul alone, and checks that the outputs
agree. Prints a table and writes JSON.
"""
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
import os
import platform

import numpy as np
import tensorflow.compat.v1 as tf
from absl import app, flags

from tf1zoo.scripts import benchmark_torchvision, checkpoint_info, script_flags

FLAGS = flags.FLAGS

# Lavin & Gray (2016), section 4: input transform B^T, filter transform G, output transform A^T.
_TRANSFORMS = {
    'F2': dict(output_size=2,
               input_t=[[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
               filter_t=[[1, 0, 0], [.5, .5, .5], [.5, -.5, .5], [0, 0, 1]],
               output_t=[[1, 1, 1, 0], [0, 1, -1, -1]]),
    'F4': dict(output_size=4,
               input_t=[[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
                        [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]],
               filter_t=[[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
                         [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]],
               output_t=[[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0],
                         [0, 1, -1, 8, -8, 1]]),
}
# (VGG16 layer, input size, input channels, output channels): one stride-1 3x3 layer per block.
_VGG16_LAYERS = (('conv1_2', 300, 64, 64), ('conv2_2', 150, 128, 128), ('conv3_2', 75, 256, 256),
                 ('conv4_2', 38, 512, 512), ('conv5_2', 19, 512, 512))


def define_flags(flag_values=flags.FLAGS):
    define = script_flags.Definer(flag_values)
    define.list('batch_sizes', ['1', '8'], 'Batch sizes.')
    define.list('layers', [layer[0] for layer in _VGG16_LAYERS], 'VGG16 layers whose shapes are timed.')
    define.integer('warmup_iters', 1, 'Untimed runs first.')
    define.integer('num_iters', 5, 'Timed runs (the median is reported).')
    define.string('output_json', None, 'Where to write the results (optional).')


def _kron(matrix):
    matrix = np.asarray(matrix, np.float32)
    return np.kron(matrix, matrix)


def winograd_conv2d(inputs, kernel, variant='F4', return_stages=False):
    """A stride-1 3x3 SAME convolution by Winograd's F(m x m, 3 x 3).

    Args:
      inputs: float32 [batch, height, width, in_channels] (NHWC, static shape).
      kernel: float32 [3, 3, in_channels, out_channels].
      variant: 'F2' or 'F4' (output tile size m).
      return_stages: also return the intermediate tensors {'tiles', 'transformed_tiles', 'filters',
        'products'} for timing.

    Returns:
      float32 [batch, height, width, out_channels], equal to ``tf.nn.conv2d(inputs, kernel, 1, 'SAME')``
      up to rounding.
    """
    spec = _TRANSFORMS[variant]
    tile_out = spec['output_size']
    tile_in = tile_out + 2
    batch, height, width, in_channels = inputs.shape.as_list()
    out_channels = kernel.shape.as_list()[-1]
    tiles_y, tiles_x = -(-height // tile_out), -(-width // tile_out)
    num_tiles = batch * tiles_y * tiles_x
    # SAME's one-pixel border, plus zeros so that the tiles cover a multiple of m.
    padded = tf.pad(inputs, [[0, 0], [1, tiles_y * tile_out - height + 1],
                             [1, tiles_x * tile_out - width + 1], [0, 0]])
    tiles = tf.image.extract_patches(padded, [1, tile_in, tile_in, 1], [1, tile_out, tile_out, 1],
                                     [1, 1, 1, 1], 'VALID')
    tiles = tf.transpose(tf.reshape(tiles, [num_tiles, tile_in ** 2, in_channels]), [1, 0, 2])
    transformed = tf.reshape(
        tf.matmul(_kron(spec['input_t']), tf.reshape(tiles, [tile_in ** 2, num_tiles * in_channels])),
        [tile_in ** 2, num_tiles, in_channels])
    filters = tf.reshape(
        tf.matmul(_kron(spec['filter_t']), tf.reshape(kernel, [9, in_channels * out_channels])),
        [tile_in ** 2, in_channels, out_channels])
    products = tf.matmul(transformed, filters)
    outputs = tf.matmul(_kron(spec['output_t']),
                        tf.reshape(products, [tile_in ** 2, num_tiles * out_channels]))
    # [m*m, batch, ty, tx, k] -> [batch, ty, tx, (row, column, k)] -> pixels.
    outputs = tf.reshape(outputs, [tile_out ** 2, batch, tiles_y, tiles_x, out_channels])
    outputs = tf.reshape(tf.transpose(outputs, [1, 2, 3, 0, 4]),
                         [batch, tiles_y, tiles_x, tile_out ** 2 * out_channels])
    outputs = tf.nn.depth_to_space(outputs, tile_out)[:, :height, :width, :]
    if return_stages:
        return outputs, {'tiles': tiles, 'transformed_tiles': transformed, 'filters': filters,
                         'products': products}
    return outputs


def time_layer(batch_size, size, in_channels, out_channels, values):
    """Milliseconds of the direct and the Winograd convolutions of one layer shape, and their errors."""
    rng = np.random.default_rng(0)
    result = {}
    with tf.Graph().as_default():
        inputs = tf.Variable(rng.normal(size=(batch_size, size, size, in_channels)).astype(np.float32))
        kernel = tf.Variable((rng.normal(size=(3, 3, in_channels, out_channels))
                              / np.sqrt(9 * in_channels)).astype(np.float32))
        direct = tf.nn.conv2d(inputs, kernel, 1, 'SAME')
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            reference = session.run(direct)
            result['direct_ms'] = _milliseconds(session, direct, values)
            for variant in sorted(_TRANSFORMS):
                outputs, stages = winograd_conv2d(inputs, kernel, variant, return_stages=True)
                # The batched matmul alone: its operands cached in variables, so that only it runs.
                transformed = tf.Variable(stages['transformed_tiles'])
                filters = tf.Variable(stages['filters'])
                session.run([transformed.initializer, filters.initializer])
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
    result = {'machine': {'cpu_count': os.cpu_count(), 'processor': platform.processor() or
                          platform.machine(), 'tensorflow': tf.__version__,
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
                         for variant in sorted(_TRANSFORMS))), flush=True)
    if values.output_json:
        checkpoint_info.write_json_atomically(values.output_json, result)
    return result


def main(argv):
    if len(argv) > 1:
        raise app.UsageError('unexpected arguments: %s' % ' '.join(argv[1:]))
    run(FLAGS)


if __name__ == '__main__':
    define_flags()
    app.run(main)
