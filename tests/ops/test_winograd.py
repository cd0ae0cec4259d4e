"""Winograd convolutions equal the direct ones (a NumPy correlation), and the layer is slim.conv2d's twin."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tf_slim as slim

from tf1zoo.ops import winograd


def numpy_conv2d(inputs, kernel, padding, rate):
    """Direct 3x3 cross-correlation, NHWC, stride 1, zero padding as TF's SAME / VALID."""
    border = rate if padding == 'SAME' else 0
    padded = np.pad(inputs, [(0, 0), (border, border), (border, border), (0, 0)])
    out_height = padded.shape[1] - 2 * rate
    out_width = padded.shape[2] - 2 * rate
    outputs = np.zeros(inputs.shape[:1] + (out_height, out_width, kernel.shape[-1]))
    for row in range(3):
        for column in range(3):
            window = padded[:, row * rate:row * rate + out_height, column * rate:column * rate + out_width]
            outputs += np.einsum('nhwc,ck->nhwk', window.astype(np.float64), kernel[row, column])
    return outputs


@pytest.mark.parametrize('tile_size', winograd.TILE_SIZES)
@pytest.mark.parametrize('height, width, padding, rate', [
    (7, 7, 'SAME', 1), (8, 5, 'SAME', 1), (9, 6, 'VALID', 1), (4, 4, 'SAME', 1),
    (11, 9, 'SAME', 3), (13, 13, 'VALID', 2)])
def test_winograd_convolution_equals_the_direct_correlation(tile_size, height, width, padding, rate):
    rng = np.random.default_rng(height * width + rate)
    inputs = rng.normal(size=(2, height, width, 3)).astype(np.float32)
    kernel = rng.normal(size=(3, 3, 3, 5)).astype(np.float32)
    with tf.Graph().as_default(), tf.Session() as session:
        # The batch is left dynamic, as in evaluation.
        placeholder = tf.placeholder(tf.float32, [None, height, width, 3])
        outputs = winograd.winograd_conv2d(placeholder, tf.constant(kernel), tile_size, padding, rate)
        result = session.run(outputs, {placeholder: inputs})
    np.testing.assert_allclose(result, numpy_conv2d(inputs, kernel, padding, rate), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('tile_size', winograd.TILE_SIZES)
@pytest.mark.parametrize('batch_shape, rate', [(3, 1), (None, 1), (3, 2)])
def test_biases_and_activation_apply_to_every_output_pixel(tile_size, batch_shape, rate):
    # They act on the output tiles, before those are scattered back to pixels: every pixel, the
    # images' order and the tiles' overhang past the edge (9 is no multiple of 2, 4 or 6) must come out
    # as relu(conv + b), whether the batch is static (constant indices) or fed.
    rng = np.random.default_rng(tile_size + rate)
    inputs = rng.normal(size=(3, 9, 7, 4)).astype(np.float32)
    kernel = rng.normal(size=(3, 3, 4, 6)).astype(np.float32)
    biases = rng.normal(size=6).astype(np.float32)
    with tf.Graph().as_default(), tf.Session() as session:
        placeholder = tf.placeholder(tf.float32, [batch_shape, 9, 7, 4])
        outputs = winograd.winograd_conv2d(placeholder, tf.constant(kernel), tile_size, 'SAME', rate,
                                           biases=tf.constant(biases), activation_fn=tf.nn.relu)
        result = session.run(outputs, {placeholder: inputs})
    expected = np.maximum(numpy_conv2d(inputs, kernel, 'SAME', rate) + biases, 0)
    assert (expected == 0).any() and (expected > 0).any()
    np.testing.assert_allclose(result, expected, rtol=1e-4, atol=1e-4)


def test_filter_transform_is_g_kernel_g_transposed_per_channel_pair():
    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(3, 3, 2, 4)).astype(np.float32)
    # F(2x2, 3x3) at the points 0, 1, -1 and infinity: G's rows are the powers (1, p, p^2) of each.
    g = np.array([[1, 0, 0], [1, 1, 1], [1, -1, 1], [0, 0, 1]])
    with tf.Graph().as_default(), tf.Session() as session:
        transformed = session.run(winograd.transform_filters(tf.constant(kernel), 2))
    expected = np.einsum('ai,ijck,bj->abck', g, kernel, g).reshape(16, 2, 4)
    np.testing.assert_allclose(transformed, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize('tile_size', winograd.TILE_SIZES)
def test_cook_toom_matrices_compute_a_1d_correlation(tile_size):
    points = {2: (0, 1, -1), 4: (0, 1, -1, 2, -2), 6: (0, 1, -1, 2, -2, 0.5, -0.5)}[tile_size]
    input_t, filter_t, output_t = winograd.cook_toom_matrices(points, tile_size)
    rng = np.random.default_rng(tile_size)
    signal, kernel = rng.normal(size=tile_size + 2), rng.normal(size=3)
    expected = [signal[i:i + 3] @ kernel for i in range(tile_size)]
    np.testing.assert_allclose(output_t @ ((filter_t @ kernel) * (input_t @ signal)), expected,
                               rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match='needs 3 finite points'):
        winograd.cook_toom_matrices((0, 1), 2)


def _layer_outputs(build, inputs):
    """Outputs, variable names/shapes, regularisation-loss count and op types of a conv layer built by
    ``build``, its variables set to values drawn from their names (so both builds share them)."""
    with tf.Graph().as_default(), tf.Session() as session:
        outputs = build(tf.constant(inputs))
        session.run(tf.global_variables_initializer())
        for variable in tf.global_variables():
            rng = np.random.default_rng(sum(map(ord, variable.op.name)))
            variable.load(rng.uniform(0.5, 1.5, variable.shape.as_list()).astype(np.float32), session)
        session.run(tf.local_variables_initializer())  # filter caches, from the loaded weights
        names = {variable.op.name: variable.shape.as_list() for variable in tf.model_variables()}
        return (session.run(outputs), names, len(tf.losses.get_regularization_losses()),
                {op.type for op in tf.get_default_graph().get_operations()})


@pytest.mark.parametrize('batch_norm, cache_filters', [(False, False), (True, False), (False, True)])
def test_layer_has_slim_conv2ds_variables_and_outputs(batch_norm, cache_filters):
    inputs = np.random.default_rng(1).normal(size=(2, 9, 9, 4)).astype(np.float32)
    normalizer = dict(normalizer_fn=slim.batch_norm,
                      normalizer_params=dict(is_training=False, scale=True)) if batch_norm else {}

    def build(conv, **tile):
        def layer(images):
            with slim.arg_scope([slim.conv2d, winograd.conv2d], weights_regularizer=slim.l2_regularizer(1e-3),
                                biases_initializer=tf.constant_initializer(0.5), **normalizer):
                return conv(images, 6, [3, 3], scope='block/conv', **tile)
        return layer

    direct, direct_names, direct_losses, _ = _layer_outputs(build(slim.conv2d), inputs)
    fast, fast_names, fast_losses, op_types = _layer_outputs(
        build(winograd.conv2d, tile_size=4, min_input_channels=4, cache_filters=cache_filters), inputs)
    assert fast_names == direct_names
    assert ('block/conv/biases' in fast_names) is not batch_norm
    assert fast_losses == direct_losses == 1
    assert 'Conv2D' not in op_types and 'BatchMatMulV2' in op_types
    np.testing.assert_allclose(fast, direct, rtol=1e-4, atol=1e-4)


def test_layer_falls_through_to_slim_where_winograd_does_not_apply():
    inputs = tf.zeros([1, 8, 8, winograd.MIN_INPUT_CHANNELS])
    assert winograd.applies(inputs, [3, 3], rate=6)
    assert not winograd.applies(inputs, [3, 3], stride=2)
    assert not winograd.applies(inputs, [1, 1])
    assert not winograd.applies(tf.zeros([1, 128, 8, 8]), [3, 3], data_format='NCHW')
    assert not winograd.applies(tf.zeros([1, 8, 8, winograd.MIN_INPUT_CHANNELS - 1]), [3, 3])
    for arguments in (dict(stride=2), dict(kernel_size=[1, 1])):
        with tf.Graph().as_default():
            winograd.conv2d(tf.zeros([1, 8, 8, winograd.MIN_INPUT_CHANNELS]), 4,
                            **{'kernel_size': [3, 3], **arguments}, tile_size=4)
            assert 'Conv2D' in {op.type for op in tf.get_default_graph().get_operations()}


def test_filter_cache_is_a_local_variable_outside_checkpoints_and_training():
    with tf.Graph().as_default():
        winograd.conv2d(tf.zeros([1, 8, 8, 2]), 4, [3, 3], tile_size=2, min_input_channels=1,
                        cache_filters=True, scope='cached')
        assert [v.op.name for v in tf.local_variables()] == ['cached/winograd_filters']
        assert tf.local_variables()[0].shape.as_list() == [16, 2, 4]
        assert sorted(v.op.name for v in tf.global_variables()) == ['cached/biases', 'cached/weights']
        assert tf.local_variables()[0] not in tf.trainable_variables()


@pytest.mark.parametrize('tile_size', [None, 4])
def test_layer_takes_slim_conv2ds_arg_scope_for_arguments_it_is_not_given(tile_size):
    # An arg_scope set on slim.conv2d alone reaches the layer, Winograd or not: the activation,
    # regulariser, initialiser and collections below are none of the layer's own defaults.
    inputs = np.random.default_rng(2).normal(size=(1, 6, 6, 4)).astype(np.float32)

    def build(conv, **tile):
        def layer(images):
            with slim.arg_scope([slim.conv2d], activation_fn=None,
                                weights_regularizer=slim.l2_regularizer(1.0),
                                biases_initializer=None, outputs_collections='ends',
                                variables_collections=['extra']):
                outputs = conv(images, 3, [3, 3], scope='conv', **tile)
            assert tf.get_collection('ends') == [outputs]
            assert [v.op.name for v in tf.get_collection('extra')] == ['conv/weights']
            return outputs
        return layer

    direct, direct_names, direct_losses, _ = _layer_outputs(build(slim.conv2d), inputs)
    fast, fast_names, fast_losses, op_types = _layer_outputs(
        build(winograd.conv2d, tile_size=tile_size, min_input_channels=4), inputs)
    assert fast_names == direct_names == {'conv/weights': [3, 3, 4, 3]}
    assert fast_losses == direct_losses == 1
    assert ('BatchMatMulV2' in op_types) is (tile_size is not None)
    assert (direct < 0).any()  # no ReLU
    np.testing.assert_allclose(fast, direct, rtol=1e-4, atol=1e-4)


def test_layer_keeps_slim_conv2ds_nchw_from_an_arg_scope():
    with tf.Graph().as_default():
        with slim.arg_scope([slim.conv2d], data_format='NCHW'):
            outputs = winograd.conv2d(tf.zeros([1, 16, 8, 8]), 4, [3, 3], tile_size=4, min_input_channels=1)
        assert outputs.shape.as_list() == [1, 4, 8, 8]


def test_unknown_tile_sizes_and_arguments_are_refused():
    with tf.Graph().as_default():
        inputs = tf.zeros([1, 8, 8, 4])
        with pytest.raises(ValueError, match='tile size must be one of'):
            winograd.conv2d(inputs, 4, [3, 3], tile_size=5)
        with pytest.raises(ValueError, match='tile size must be one of'):
            winograd.winograd_conv2d(inputs, tf.zeros([3, 3, 4, 4]), tile_size=3)
        with pytest.raises(TypeError, match='no argument.*dilation'):
            winograd.conv2d(inputs, 4, [3, 3], dilation=2)


def test_an_inference_tower_can_reuse_a_training_towers_weights_with_a_filter_cache():
    with tf.Graph().as_default():
        inputs = tf.zeros([1, 8, 8, 2])
        winograd.conv2d(inputs, 4, [3, 3], tile_size=2, min_input_channels=1, scope='shared')
        winograd.conv2d(inputs, 4, [3, 3], tile_size=2, min_input_channels=1, scope='shared',
                        reuse=True, cache_filters=True)
        assert [v.op.name for v in tf.local_variables()] == ['shared/winograd_filters']
        assert sorted(v.op.name for v in tf.global_variables()) == ['shared/biases', 'shared/weights']


@pytest.mark.parametrize('size, tile_size', [(300, 6), (150, 6), (75, 6), (38, 6), (19, 4), (4, 4), (1, 4)])
def test_adaptive_tile_size_takes_the_fewest_multiplies(size, tile_size):
    # By hand, (tiles a side)^2 * (m + 2)^2: 38 -> F(4x4) 10^2 * 36 = 3600, F(6x6) 7^2 * 64 = 3136;
    # 19 -> 5^2 * 36 = 900 vs 4^2 * 64 = 1024; 4 -> 36 vs 64 (a tie would go to F(4x4)).
    assert winograd.adaptive_tile_size(size, size) == tile_size


@pytest.mark.parametrize('size, rate, positions', [(38, 1, 64), (19, 1, 36), (19, 6, 36), (76, 2, 64)])
def test_adaptive_layer_sizes_its_tiles_by_the_map_a_dilated_kernel_runs_on(size, rate, positions):
    # Rate 6 on 19 x 19 (SSD's fc6) runs on 4 x 4 sub-images: F(4x4); rate 2 on 76 x 76: 38 x 38, F(6x6).
    with tf.Graph().as_default():
        winograd.conv2d(tf.zeros([1, size, size, 2]), 3, [3, 3], rate=rate, tile_size=winograd.ADAPTIVE,
                        min_input_channels=1, cache_filters=True, scope='layer')
        assert tf.local_variables()[0].shape.as_list() == [positions, 2, 3]


@pytest.mark.parametrize('tile_size', winograd.TILE_SIZES)
def test_gradients_equal_the_direct_convolutions(tile_size):
    # Training through the gathers: their gradients scatter back to the right pixels and taps.
    rng = np.random.default_rng(tile_size)
    inputs = rng.normal(size=(2, 7, 9, 3)).astype(np.float32)
    kernel = rng.normal(size=(3, 3, 3, 4)).astype(np.float32)
    upstream = rng.normal(size=(2, 7, 9, 4)).astype(np.float32)
    with tf.Graph().as_default(), tf.Session() as session:
        images, weights = tf.constant(inputs), tf.constant(kernel)
        gradients = [tf.gradients(outputs, [images, weights], tf.constant(upstream)) for outputs in (
            tf.nn.conv2d(images, weights, 1, 'SAME'), winograd.winograd_conv2d(images, weights, tile_size))]
        (direct_inputs, direct_kernel), (fast_inputs, fast_kernel) = session.run(gradients)
    np.testing.assert_allclose(fast_inputs, direct_inputs, rtol=0, atol=1e-4 * np.abs(direct_inputs).max())
    np.testing.assert_allclose(fast_kernel, direct_kernel, rtol=0, atol=1e-4 * np.abs(direct_kernel).max())
