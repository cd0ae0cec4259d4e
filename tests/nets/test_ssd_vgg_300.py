"""SSD300's graph: shapes, end_points, slim variable names, and layer shapes against Caffe's prototxt."""
import re

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tf_slim as slim

from tf1zoo.nets import detection_layers, ssd_vgg_300

SOURCE_SIZES = {'conv4_3': 38, 'fc7': 19, 'conv6_2': 10, 'conv7_2': 5, 'conv8_2': 3, 'conv9_2': 1}


def _build(depth_multiplier=1.0, batch=1, data_format='NHWC', batch_norm=False):
    shape = [batch, 300, 300, 3] if data_format == 'NHWC' else [batch, 3, 300, 300]
    inputs = tf.placeholder(tf.float32, shape)
    with slim.arg_scope(ssd_vgg_300.ssd_vgg_300_arg_scope(data_format=data_format,
                                                          batch_norm=batch_norm)):
        predictions, end_points = ssd_vgg_300.ssd_vgg_300(
            inputs, num_classes=21, depth_multiplier=depth_multiplier, data_format=data_format)
    return inputs, predictions, end_points


def test_source_maps_and_head_shapes_at_300():
    with tf.Graph().as_default():
        _, predictions, end_points = _build(batch=2)
        for name, size in SOURCE_SIZES.items():
            assert end_points[name].shape.as_list()[1:3] == [size, size], name
        assert predictions['box_encodings'].shape.as_list() == [2, 8732, 4]
        assert predictions['class_predictions_with_background'].shape.as_list() == [2, 8732, 21]


def test_priors_per_cell_sum_to_8732():
    total = sum(SOURCE_SIZES[layer.source.replace('_norm', '')] ** 2 *
                detection_layers.num_priors_per_cell(layer) for layer in ssd_vgg_300.PRIOR_LAYERS)
    assert total == 8732


def test_variable_names_follow_slim_vgg_16_and_caffe():
    with tf.Graph().as_default():
        _build()
        names = {v.op.name for v in tf.global_variables()}
    for expected in ('vgg_16/conv1/conv1_1/weights', 'vgg_16/conv5/conv5_3/biases',
                     'vgg_16/fc6/weights', 'vgg_16/fc7/weights', 'ssd_300_vgg/conv4_3_norm/scale',
                     'ssd_300_vgg/conv9_2/weights', 'ssd_300_vgg/conv4_3_norm_mbox_loc/weights',
                     'ssd_300_vgg/conv9_2_mbox_conf/biases'):
        assert expected in names, expected


def test_batch_norm_normalises_body_and_extra_layers_but_not_the_heads():
    with tf.Graph().as_default():
        _build(depth_multiplier=0.125, batch_norm=True)
        names = {v.op.name for v in tf.global_variables()}
    for layer in ('vgg_16/conv1/conv1_1', 'vgg_16/fc7', 'ssd_300_vgg/conv9_2'):
        for variable in ('gamma', 'beta', 'moving_mean', 'moving_variance'):
            assert '%s/BatchNorm/%s' % (layer, variable) in names
        assert layer + '/biases' not in names
    heads = [name for name in names if '_mbox_' in name]
    assert len(heads) == 2 * 2 * len(ssd_vgg_300.PRIOR_LAYERS)  # weights and biases, loc and conf
    assert not [name for name in heads if 'BatchNorm' in name]


def _prototxt_convolutions(text):
    """{layer name: (num_output, kernel_size)} of every Convolution layer in a prototxt."""
    layers = {}
    for block in re.split(r'\nlayer \{', text)[1:]:
        if 'type: "Convolution"' not in block:
            continue
        name = re.search(r'name: "([^"]+)"', block).group(1)
        layers[name] = (int(re.search(r'num_output: (\d+)', block).group(1)),
                        int(re.search(r'kernel_size: (\d+)', block).group(1)))
    return layers


def test_conv_shapes_match_the_prototxt(caffe_reference_dir):
    text = (caffe_reference_dir / 'ssd300_vgg16_voc0712_deploy.prototxt').read_text()
    caffe_layers = _prototxt_convolutions(text)
    with tf.Graph().as_default():
        _build()
        weights = {v.op.name.split('/')[-2]: v.shape.as_list() for v in tf.global_variables()
                   if v.op.name.endswith('/weights')}
    assert set(weights) == set(caffe_layers)
    for name, (num_output, kernel) in caffe_layers.items():
        assert weights[name][0] == weights[name][1] == kernel, name
        assert weights[name][3] == num_output, name


def test_thin_variant_keeps_heads_and_priors():
    with tf.Graph().as_default():
        _, predictions, end_points = _build(depth_multiplier=0.25)
        assert end_points['conv4_3'].shape.as_list()[-1] == 128
        assert end_points['fc7'].shape.as_list()[-1] == 256
        assert predictions['box_encodings'].shape.as_list() == [1, 8732, 4]


@pytest.mark.parametrize('depth_multiplier', [0.125])
def test_nchw_equals_nhwc(depth_multiplier):
    images = np.random.RandomState(0).uniform(-1, 1, [1, 300, 300, 3]).astype(np.float32)
    outputs = {}
    for data_format in ('NHWC', 'NCHW'):
        with tf.Graph().as_default():
            tf.set_random_seed(1)
            inputs, predictions, _ = _build(depth_multiplier, data_format=data_format)
            feed = images if data_format == 'NHWC' else images.transpose([0, 3, 1, 2])
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                try:
                    outputs[data_format] = sess.run(predictions, {inputs: feed})
                except tf.errors.InvalidArgumentError:
                    pytest.skip('NCHW convolutions need a GPU on this TensorFlow build')
    for key in outputs['NHWC']:
        np.testing.assert_allclose(outputs['NCHW'][key], outputs['NHWC'][key], rtol=1e-4, atol=1e-4)
