"""DCGAN's generator and discriminator: shapes, variable names, batch-norm placement and initialisation
for 32, 64 and 128 pixels (the paper's Figure 1 at 64)."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tf_slim as slim

from tf1zoo.nets import dcgan


def _build(image_size, channels=3, depth_multiplier=1.0):
    with slim.arg_scope(dcgan.dcgan_arg_scope(is_training=True)):
        images, g_points = dcgan.generator(tf.zeros([2, dcgan.Z_DIM]), image_size, channels,
                                           depth_multiplier)
        logits, d_points = dcgan.discriminator(images, depth_multiplier)
    return images, g_points, logits, d_points


def _shapes(end_points):
    return [end_points[key].shape.as_list()[1:] for key in sorted(end_points)]


def test_figure_1_at_64():
    with tf.Graph().as_default():
        images, g_points, logits, d_points = _build(64)
        assert _shapes(g_points) == [[8, 8, 512], [16, 16, 256], [32, 32, 128], [64, 64, 3],
                                     [4, 4, 1024]]
        assert _shapes(d_points) == [[32, 32, 64], [16, 16, 128], [8, 8, 256], [4, 4, 512]]
        assert logits.shape.as_list() == [2]
        variables = {v.op.name: v.shape.as_list() for v in tf.global_variables()}
    assert variables['Generator/project/weights'] == [100, 4 * 4 * 1024]
    assert variables['Generator/deconv1/weights'] == [5, 5, 512, 1024]  # [h, w, out, in]
    assert variables['Generator/deconv4/weights'] == [5, 5, 3, 128]
    assert variables['Discriminator/conv1/weights'] == [5, 5, 3, 64]
    assert variables['Discriminator/logit/weights'] == [4 * 4 * 512, 1]
    # Batch norm on every G layer but the output, on every D layer but the input layer: where it is,
    # it replaces the bias.
    with_norm = {name.split('/BatchNorm')[0] for name in variables if '/BatchNorm/' in name}
    assert with_norm == {'Generator/project', 'Generator/deconv1', 'Generator/deconv2',
                         'Generator/deconv3', 'Discriminator/conv2', 'Discriminator/conv3',
                         'Discriminator/conv4'}
    biased = {name[:-len('/biases')] for name in variables if name.endswith('/biases')}
    assert biased == {'Generator/project', 'Generator/deconv4', 'Discriminator/conv1',
                      'Discriminator/logit'}
    assert {name.split('/')[-1] for name in variables if 'BatchNorm' in name} == {
        'gamma', 'beta', 'moving_mean', 'moving_variance'}


@pytest.mark.parametrize('image_size, channels, projected, d_widths', [
    (32, 1, 512, [64, 128, 256]), (128, 3, 2048, [64, 128, 256, 512, 1024])])
def test_other_sizes_add_or_drop_stages(image_size, channels, projected, d_widths):
    with tf.Graph().as_default():
        images, g_points, _, d_points = _build(image_size, channels)
        assert images.shape.as_list() == [2, image_size, image_size, channels]
        assert g_points['Generator/project'].shape.as_list() == [2, 4, 4, projected]
        assert [shape[-1] for shape in _shapes(d_points)] == d_widths


def test_depth_multiplier_thins_the_hidden_layers_only():
    with tf.Graph().as_default():
        images, g_points, logits, d_points = _build(64, depth_multiplier=0.25)
        assert g_points['Generator/project'].shape.as_list()[-1] == 256
        assert images.shape.as_list()[-1] == 3 and logits.shape.as_list() == [2]
        assert [shape[-1] for shape in _shapes(d_points)] == [16, 32, 64, 128]


def test_weights_start_from_n_0_002_and_the_output_is_tanh():
    with tf.Graph().as_default():
        images, _, _, _ = _build(64)
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            weights = session.run(slim.get_unique_variable('Generator/deconv1/weights'))
            biases = session.run(slim.get_unique_variable('Discriminator/conv1/biases'))
    assert abs(weights.std() - 0.02) < 0.001 and abs(weights.mean()) < 0.001
    assert not biases.any()
    with tf.Graph().as_default():
        with slim.arg_scope(dcgan.dcgan_arg_scope(is_training=False)):
            images, _ = dcgan.generator(dcgan.sample_z(16, seed=1), 32)
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            pixels = session.run(images)
    assert pixels.min() >= -1 and pixels.max() <= 1 and pixels.std() > 0


def test_sizes_that_are_not_four_times_a_power_of_two_are_refused():
    for size in (48, 4, 100):
        with pytest.raises(ValueError, match='power of two'):
            dcgan.num_stages(size)
    assert np.array_equal(dcgan.stage_widths(64, 64), (64, 128, 256, 512))
