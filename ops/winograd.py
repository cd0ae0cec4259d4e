"""3x3 stride-1 convolutions by Winograd's minimal filtering, in plain TF ops (an inference speed-up).

Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks" (CVPR 2016): F(m x m, 3 x 3) computes
an m x m output tile from an (m + 2) x (m + 2) input tile with (m + 2)^2 multiplies per input/output
channel pair instead of 9 m^2, i.e. 4x fewer for F(4x4, 3x3), 5x for F(6x6, 3x3). The result equals the
direct convolution up to float rounding (relative error ~1e-5 in float32); OpenCV's DNN module computes
its 3x3 convolutions this way on CPUs. The stages here are TF ops that oneDNN runs fast: the input tiles
gathered from the pixel matrix in one ``tf.gather``, times the Kronecker product B^T (x) B^T; one
matmul per tile position with the transformed filters; the output transform A^T (x) A^T, with the bias
and activation that oneDNN fuses into it; and one ``tf.gather`` from output tiles back to pixels.

Tensors are NHWC with static spatial sizes; the batch may be dynamic. Kernels are ``[3, 3, in, out]``
as tf-slim stores them, so a net switches between the direct and the Winograd form without any change
to its variables (`conv2d` below is a drop-in for ``slim.conv2d``). For inference `conv2d` can keep the
transformed filters in a local variable (``cache_filters``): transforming them on every run writes
(m + 2)^2 / 9 times the weights (~350 MB for SSD300 at F(4x4)), which cost SSD300 50 ms per image at
batch 1. The cache is filled by ``tf.local_variables_initializer()``, to be run after the weights are
restored (TF1's Scaffold does so; `engine/inference.py` too); running it together with the
global initializer before a restore leaves the cache holding the initial weights.
"""
from tf1zoo.ops import compat  # noqa: F401, I001  (TF 2.21 graph-mode set-up; must precede TF)
import inspect

import numpy as np
import tensorflow.compat.v1 as tf
import tf_slim as slim
from tf_slim.layers import utils as slim_utils

# Interpolation points of F(m x m, 3 x 3) (the last point of each is infinity): Lavin & Gray's for
# m = 2 and 4; for m = 6 the usual 0, +-1, +-2, +-1/2 (small points keep float32's error down: ~3e-6
# relative per tile for m = 6, 7e-7 for m = 4).
_INTERPOLATION_POINTS = {2: (0, 1, -1), 4: (0, 1, -1, 2, -2), 6: (0, 1, -1, 2, -2, 0.5, -0.5)}


def cook_toom_matrices(points, output_size, kernel_size=3):
    """(B^T, G, A^T) of Winograd's F(m, r) for the finite ``points`` plus infinity (Toom-Cook).

    The linear convolution of a kernel g and a signal h, evaluated at the points, is the product of
    their evaluations: V s = (G g) * (H h), with V, G, H the Vandermonde matrices of the points (the
    infinity row takes the leading coefficient). The correlation a CNN computes is its transpose,
    y = H^T [(G g) * (V^-T d)]: so B^T = V^-T, A^T = H^T.

    Returns:
      float32 input transform B^T [n, n], filter transform G [n, r], output transform A^T [m, n],
      n = m + r - 1.
    """
    size = output_size + kernel_size - 1
    if len(points) != size - 1:
        raise ValueError('F(%d, %d) needs %d finite points, got %r' % (output_size, kernel_size,
                                                                       size - 1, points))

    def vandermonde(columns):
        matrix = np.zeros([size, columns])
        matrix[:-1] = np.asarray(points, np.float64)[:, None] ** np.arange(columns)
        matrix[-1, -1] = 1.0
        return matrix

    input_t = np.linalg.inv(vandermonde(size)).T
    return (input_t.astype(np.float32), vandermonde(kernel_size).astype(np.float32),
            vandermonde(output_size).T.astype(np.float32))


_TRANSFORMS = {size: dict(zip(('input_t', 'filter_t', 'output_t'), cook_toom_matrices(points, size)))
               for size, points in _INTERPOLATION_POINTS.items()}
TILE_SIZES = tuple(sorted(_TRANSFORMS))
# `conv2d`'s tile_size that picks, per layer, the tile with the fewest multiplies (`adaptive_tile_size`).
ADAPTIVE = 'adaptive'
# Below this many input channels the tile transforms cost more than the multiplies saved: VGG16's
# conv1_1 (3 channels) stays direct; conv1_2 and conv2_1 (64) gain 1.1-1.4x from F(6x6) at 300 x 300
# and 150 x 150 (scripts/benchmark_winograd.py, oneDNN, AVX-512 CPU).
MIN_INPUT_CHANNELS = 64


def _check_tile_size(tile_size, allow_none=False):
    if not (tile_size in TILE_SIZES or (allow_none and tile_size in (None, ADAPTIVE))):
        raise ValueError('Winograd tile size must be one of %s%s, got %r'
                         % (TILE_SIZES, ', %r or None' % ADAPTIVE if allow_none else '', tile_size))


def adaptive_tile_size(out_height, out_width, candidates=(4, 6)):
    """The tile size among ``candidates`` whose tiles cover the output with the fewest multiplies,
    (m + 2)^2 per tile; ties go to the smaller tile (smaller float error, cheaper transforms).

    F(6x6) covers 300, 150 and 75 pixel maps with fewer multiplies than F(4x4) (0.79x, 0.77x and
    0.83x); on 38 x 38 (0.87x) too, but 19 x 19 needs four 6-pixel tiles a side for three and a bit, so
    F(4x4) (0.88x of F(6x6))."""
    def multiplies(size):
        return (-(-out_height // size)) * (-(-out_width // size)) * (size + 2) ** 2
    return min(sorted(candidates), key=multiplies)


def _kron(matrix):
    matrix = np.asarray(matrix, np.float32)
    return np.kron(matrix, matrix)


def transform_filters(kernel, tile_size=4):
    """G g G^T for every channel pair: ``[3, 3, in, out]`` -> ``[(m + 2)^2, in, out]``."""
    _check_tile_size(tile_size)
    in_channels, out_channels = kernel.shape.as_list()[2:]
    flat = tf.reshape(kernel, [9, in_channels * out_channels])
    return tf.reshape(tf.matmul(_kron(_TRANSFORMS[tile_size]['filter_t']), flat),
                      [(tile_size + 2) ** 2, in_channels, out_channels])


def winograd_conv2d(inputs, kernel, tile_size=4, padding='SAME', rate=1, biases=None, activation_fn=None,
                    return_stages=False, filters_transformed=False, scope=None):
    """``activation_fn(tf.nn.conv2d(inputs, kernel, 1, padding, dilations=rate) + biases)`` for a 3x3
    kernel, by Winograd's F(m x m, 3 x 3).

    ``biases`` and ``activation_fn`` (elementwise, e.g. ReLU) are applied to the output tiles before
    they are scattered back to pixels, where oneDNN fuses them into the output transform's matmul.
    A dilated kernel runs on the ``rate`` x ``rate`` interleaved sub-images (``tf.nn.with_space_to_batch``,
    as TF's own atrous convolution does), where it is an ordinary 3x3 convolution.

    Args:
      inputs: float32 [batch, height, width, in_channels]; height and width static.
      kernel: float32 [3, 3, in_channels, out_channels].
      tile_size: m, the output tile size (2, 4 or 6).
      padding: 'SAME' or 'VALID'.
      rate: dilation (1: none).
      biases: optional float32 [out_channels].
      activation_fn: optional elementwise function.
      return_stages: also return the intermediate tensors {'tiles', 'transformed_tiles', 'filters',
        'products'} (for benchmarks; rate 1 only).
      filters_transformed: ``kernel`` is already `transform_filters`' [(m + 2)^2, in, out].
      scope: name scope.

    Returns:
      float32 [batch, out_height, out_width, out_channels] (SAME: the input's size; VALID: 2 * rate
      smaller).
    """
    _check_tile_size(tile_size)
    if return_stages and rate != 1:
        raise ValueError('return_stages needs rate 1, got %r' % rate)
    with tf.name_scope(scope, 'winograd_conv2d', [inputs, kernel]):
        filters = kernel if filters_transformed else transform_filters(kernel, tile_size)
        if rate == 1:
            return _winograd_conv2d(inputs, filters, tile_size, padding, biases, activation_fn,
                                    return_stages)
        return tf.nn.with_space_to_batch(
            inputs, dilation_rate=[rate, rate], padding=padding, filter_shape=[3, 3],
            op=lambda sub_images, num_spatial_dims, sub_padding: _winograd_conv2d(
                sub_images, filters, tile_size, sub_padding, biases, activation_fn))


class _Tiling:
    """Where F(m x m, 3 x 3)'s tiles of one image lie: ``input_pixels`` [(m + 2)^2, tiles], the input
    pixel (row-major index) of every tile position, -1 in the zero padding; ``output_positions`` and
    ``output_tiles`` [out_height, out_width], each output pixel's position in its tile and its tile."""

    def __init__(self, height, width, tile_size, padding):
        border = {'SAME': 1, 'VALID': 0}[padding]
        self.out_height, self.out_width = height + 2 * border - 2, width + 2 * border - 2
        self.tiles_y, self.tiles_x = -(-self.out_height // tile_size), -(-self.out_width // tile_size)
        self.num_tiles = self.tiles_y * self.tiles_x
        offsets = np.arange(tile_size + 2)
        rows = (np.arange(self.tiles_y)[:, None] * tile_size + offsets - border).T  # [m + 2, tiles_y]
        columns = (np.arange(self.tiles_x)[:, None] * tile_size + offsets - border).T
        rows, columns = rows[:, None, :, None], columns[None, :, None, :]
        inside = (rows >= 0) & (rows < height) & (columns >= 0) & (columns < width)
        self.input_pixels = np.where(inside, rows * width + columns, -1).reshape(
            (tile_size + 2) ** 2, self.num_tiles)
        y, x = np.arange(self.out_height)[:, None], np.arange(self.out_width)[None, :]
        self.output_positions = (y % tile_size) * tile_size + x % tile_size
        self.output_tiles = (y // tile_size) * self.tiles_x + x // tile_size

    def input_rows(self, batch_size, pixels_per_image):
        """Rows of the batch's [batch * pixels + 1, in] pixel matrix (the last row: zeros) for every
        (position, image, tile): [(m + 2)^2 * batch * tiles] int32."""
        pixels = tf.constant(self.input_pixels.astype(np.int32))[:, None, :]
        image_offsets = (tf.range(batch_size) * pixels_per_image)[None, :, None]
        zero_row = tf.fill(tf.stack([pixels.shape[0], batch_size, self.num_tiles]),
                           batch_size * pixels_per_image)
        return tf.reshape(tf.where_v2(pixels >= 0, pixels + image_offsets, zero_row), [-1])

    def output_rows_of_batch(self, batch_size):
        """Rows of the batch's [m^2 * batch * tiles, out] output-tile matrix for every output pixel,
        image-major: [batch * out_height * out_width] int32."""
        position = tf.constant(self.output_positions.astype(np.int32))
        tile = tf.constant(self.output_tiles.astype(np.int32))
        image_offsets = (tf.range(batch_size) * self.num_tiles)[:, None, None]
        return tf.reshape(position[None] * (batch_size * self.num_tiles) + image_offsets + tile[None], [-1])


def _winograd_conv2d(inputs, filters, tile_size, padding, biases=None, activation_fn=None,
                     return_stages=False):
    spec = _TRANSFORMS[tile_size]
    positions = (tile_size + 2) ** 2
    height, width, in_channels = inputs.shape.as_list()[1:]
    out_channels = filters.shape.as_list()[-1]
    tiling = _Tiling(height, width, tile_size, padding)
    # A static batch makes every index below a constant that grappler folds.
    batch_size = inputs.shape.as_list()[0] or tf.shape(inputs)[0]
    # Tiles by one gather from the pixel matrix plus a zero row for the padding: one copy, in the
    # [position, tile, in] order the transforms want (cheaper than pad + extract_patches + transpose).
    pixels = tf.concat([tf.reshape(inputs, [-1, in_channels]), tf.zeros([1, in_channels], inputs.dtype)], 0)
    tiles = tf.gather(pixels, tiling.input_rows(batch_size, height * width))
    transformed = tf.reshape(tf.matmul(_kron(spec['input_t']), tf.reshape(tiles, [positions, -1])),
                             [positions, -1, in_channels])
    products = tf.matmul(transformed, filters)  # [position, tile, out]
    outputs = tf.matmul(_kron(spec['output_t']), tf.reshape(products, [positions, -1]))  # [m^2, tile * out]
    if biases is not None:
        outputs = tf.nn.bias_add(outputs, tf.tile(biases, [batch_size * tiling.num_tiles]))
    if activation_fn is not None:
        outputs = activation_fn(outputs)
    # Output tiles back to pixels by one gather (dropping the tiles' overhang past the map's edge).
    outputs = tf.gather(tf.reshape(outputs, [-1, out_channels]), tiling.output_rows_of_batch(batch_size))
    outputs = tf.reshape(outputs, [-1, tiling.out_height, tiling.out_width, out_channels])
    if return_stages:
        return outputs, {'tiles': tiles, 'transformed_tiles': transformed, 'filters': filters,
                         'products': products}
    return outputs


def applies(inputs, kernel_size, stride=1, padding='SAME', rate=1, data_format='NHWC',
            min_input_channels=MIN_INPUT_CHANNELS):
    """Whether `conv2d` takes the Winograd path for these arguments (else it is ``slim.conv2d``):
    a 3x3 kernel, stride 1, the same dilation both ways, NHWC, static spatial sizes and at least
    ``min_input_channels`` input channels."""
    sizes, strides, rates = (list(value) if isinstance(value, (list, tuple)) else [value] * 2
                             for value in (kernel_size, stride, rate))
    return (sizes == [3, 3] and strides == [1, 1] and rates[0] == rates[1]
            and padding in ('SAME', 'VALID') and data_format in (None, 'NHWC')
            and None not in inputs.shape.as_list()[1:] and inputs.shape.as_list()[-1] >= min_input_channels)


def _slim_conv2d_arguments(explicit):
    """slim.conv2d's arguments as it would see them: its defaults, then its current arg_scope, then
    the ``explicit`` ones (what `conv2d` was called with, its own arg_scope included)."""
    parameters = inspect.signature(slim.conv2d).parameters
    unknown = sorted(set(explicit) - set(parameters))
    if unknown:
        raise TypeError('slim.conv2d has no argument(s) %s' % ', '.join(unknown))
    arguments = {name: parameter.default for name, parameter in parameters.items()
                 if parameter.default is not inspect.Parameter.empty}
    arguments.update(slim.current_arg_scope().get(slim.arg_scope_func_key(slim.conv2d), {}))
    arguments.update(explicit)
    return arguments


@slim.add_arg_scope
def conv2d(inputs, num_outputs, kernel_size, tile_size=None, min_input_channels=MIN_INPUT_CHANNELS,
           cache_filters=False, **conv_args):
    """``slim.conv2d(inputs, num_outputs, kernel_size, **conv_args)``, or with ``tile_size`` 2, 4, 6 or
    `ADAPTIVE` (`adaptive_tile_size` of the layer's output) the Winograd convolution where it `applies`
    (3x3, stride 1, NHWC, enough input channels); nets set ``tile_size`` through an arg_scope.

    Arguments not given here take slim.conv2d's values, its arg_scope included, either way. The
    variables are slim.conv2d's (``<scope>/weights`` [3, 3, in, out], ``<scope>/biases`` unless a
    normalizer is given), with the same initialisers, regularisers and collections, so checkpoints
    load either way. ``cache_filters`` (inference only: no gradient reaches the weights through the
    cache) adds the local variable ``<scope>/winograd_filters``, the transformed weights as of
    ``tf.local_variables_initializer()``: run it after the weights are restored, or the cache holds
    the initial (random) weights.
    """
    _check_tile_size(tile_size, allow_none=True)
    args = _slim_conv2d_arguments(conv_args)
    if tile_size is None or not applies(inputs, kernel_size, args['stride'], args['padding'],
                                        args['rate'], args['data_format'], min_input_channels):
        return slim.conv2d(inputs, num_outputs, kernel_size, **conv_args)
    rate = args['rate'][0] if isinstance(args['rate'], (list, tuple)) else args['rate']
    if tile_size == ADAPTIVE:
        # The output of each of the rate x rate interleaved sub-images that a dilated kernel runs on.
        border = {'SAME': 0, 'VALID': 2 * rate}[args['padding']]
        height, width = (-(-(size - border) // rate) for size in inputs.shape.as_list()[1:3])
        tile_size = adaptive_tile_size(height, width)
    with tf.variable_scope(args['scope'], 'Conv', [inputs], reuse=args['reuse']) as scope:
        in_channels = inputs.shape.as_list()[-1]
        weights = slim.model_variable(
            'weights', shape=[3, 3, in_channels, num_outputs], initializer=args['weights_initializer'],
            regularizer=args['weights_regularizer'], trainable=args['trainable'],
            collections=slim_utils.get_variable_collections(args['variables_collections'], 'weights'))
        filters = transform_filters(weights, tile_size)
        if cache_filters:
            # AUTO_REUSE: an inference tower reusing a training tower's variables has no cache yet.
            with tf.variable_scope(scope, reuse=tf.AUTO_REUSE):
                filters = tf.get_variable('winograd_filters', initializer=filters, trainable=False,
                                          collections=[tf.GraphKeys.LOCAL_VARIABLES])
        if args['normalizer_fn'] is None:  # bias and activation on the output tiles (fused there)
            biases = None if args['biases_initializer'] is None else slim.model_variable(
                'biases', shape=[num_outputs], initializer=args['biases_initializer'],
                regularizer=args['biases_regularizer'], trainable=args['trainable'],
                collections=slim_utils.get_variable_collections(args['variables_collections'], 'biases'))
            outputs = winograd_conv2d(inputs, filters, tile_size, args['padding'], rate, biases,
                                      args['activation_fn'], filters_transformed=True)
        else:
            outputs = winograd_conv2d(inputs, filters, tile_size, args['padding'], rate,
                                      filters_transformed=True)
            outputs = args['normalizer_fn'](outputs, **(args['normalizer_params'] or {}))
            if args['activation_fn'] is not None:
                outputs = args['activation_fn'](outputs)
        return slim_utils.collect_named_outputs(args['outputs_collections'], scope.name, outputs)
