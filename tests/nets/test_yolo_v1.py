"""YOLO v1's network: the paper's layer table (Figure 3), output layout, variable names, thinning."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tf_slim as slim

from tf1zoo.nets import darknet_layers, yolo_v1
from tf1zoo.nets.darknet_layers import Connected, Convolutional, Dropout, MaxPool

# Figure 3, written out: (filters, size, stride) of the 24 convolutions, 'M' a 2x2/2 max pool.
FIGURE_3 = [(64, 7, 2), 'M', (192, 3, 1), 'M', (128, 1, 1), (256, 3, 1), (256, 1, 1), (512, 3, 1), 'M',
            (256, 1, 1), (512, 3, 1), (256, 1, 1), (512, 3, 1), (256, 1, 1), (512, 3, 1), (256, 1, 1),
            (512, 3, 1), (512, 1, 1), (1024, 3, 1), 'M', (512, 1, 1), (1024, 3, 1), (512, 1, 1),
            (1024, 3, 1), (1024, 3, 1), (1024, 3, 2), (1024, 3, 1), (1024, 3, 1)]


def test_the_layer_table_is_figure_3():
    layers = yolo_v1.yolo_v1_layers()
    body = ['M' if isinstance(layer, MaxPool) else (layer.filters, layer.size, layer.stride)
            for layer in layers if isinstance(layer, (Convolutional, MaxPool))]
    assert body == FIGURE_3
    convolutions = [layer for layer in layers if isinstance(layer, Convolutional)]
    assert len(convolutions) == 24
    assert all(layer.padding == layer.size // 2 and layer.activation == 'leaky' and not
               layer.batch_normalize for layer in convolutions)
    head = layers[-4:-1]
    assert head == (Connected(4096, 'leaky'), Dropout(0.5), Connected(1470, 'linear'))
    detection = layers[-1]
    assert (detection.side, detection.num, detection.classes, detection.coord_scale,
            detection.noobject_scale) == (7, 2, 20, 5.0, 0.5)


def _build(**kwargs):
    images = tf.zeros([2, 448, 448, 3])
    with slim.arg_scope(yolo_v1.yolo_v1_arg_scope(is_training=False)):
        return yolo_v1.yolo_v1(images, is_training=False, **kwargs)


def test_output_shapes_and_variable_names():
    with tf.Graph().as_default():
        outputs, end_points = _build()
        assert outputs.shape.as_list() == [2, 1470]
        assert end_points['class_probabilities'].shape.as_list() == [2, 49, 20]
        assert end_points['confidences'].shape.as_list() == [2, 49, 2]
        assert end_points['box_codes'].shape.as_list() == [2, 49, 2, 4]
        assert end_points['yolo_v1/conv1'].shape.as_list() == [2, 224, 224, 64]
        assert end_points['yolo_v1/conv22'].shape.as_list() == [2, 7, 7, 1024]
        assert end_points['yolo_v1/fc1'].shape.as_list() == [2, 4096]
        names = [(v.op.name, v.shape.as_list()) for v in slim.get_model_variables()]
    expected = []
    in_channels = 3
    for index, (filters, size, _) in enumerate(entry for entry in FIGURE_3 if entry != 'M'):
        expected += [('yolo_v1/conv%d/weights' % (index + 1), [size, size, in_channels, filters]),
                     ('yolo_v1/conv%d/biases' % (index + 1), [filters])]
        in_channels = filters
    expected += [('yolo_v1/fc1/weights', [7 * 7 * 1024, 4096]), ('yolo_v1/fc1/biases', [4096]),
                 ('yolo_v1/fc2/weights', [4096, 1470]), ('yolo_v1/fc2/biases', [1470])]
    assert names == expected


def test_the_flat_output_is_read_in_darknets_order():
    # Darknet's detection layer: 49 x 20 class probabilities, then 49 x 2 confidences, then
    # 49 x 2 x 4 box codes, each cell-major.
    detection = yolo_v1.yolo_v1_layers()[-1]
    with tf.Graph().as_default(), tf.Session() as session:
        flat = tf.range(1470, dtype=tf.float32)[None]
        classes, confidences, boxes = session.run(yolo_v1.split_outputs(flat, detection))
    assert classes[0, 0, 0] == 0 and classes[0, 48, 19] == 979 and classes[0, 1, 0] == 20
    assert confidences[0, 0].tolist() == [980, 981] and confidences[0, 48, 1] == 1077
    assert boxes[0, 0, 0].tolist() == [1078, 1079, 1080, 1081] and boxes[0, 48, 1, 3] == 1469


def test_depth_multiplier_thins_all_but_the_output_and_batch_norm_replaces_biases():
    with tf.Graph().as_default():
        outputs, end_points = _build(depth_multiplier=0.125, batch_norm=True)
        assert outputs.shape.as_list() == [2, 1470]
        assert end_points['yolo_v1/conv1'].shape.as_list()[-1] == 8
        assert end_points['yolo_v1/fc1'].shape.as_list()[-1] == 512
        names = {v.op.name for v in slim.get_model_variables()}
    assert 'yolo_v1/conv1/BatchNorm/gamma' in names and 'yolo_v1/conv1/biases' not in names
    # fc1 takes batch norm too (for training from scratch); the linear output keeps its biases.
    assert 'yolo_v1/fc1/BatchNorm/moving_variance' in names and 'yolo_v1/fc1/biases' not in names
    assert 'yolo_v1/fc2/biases' in names and not any(n.startswith('yolo_v1/fc2/BatchNorm') for n in names)
    with tf.Graph().as_default():
        _, end_points = _build(depth_multiplier=0.125, thin_connected=False)
        assert end_points['yolo_v1/conv24'].shape.as_list()[-1] == 128
        assert end_points['yolo_v1/fc1'].shape.as_list()[-1] == 4096  # fc1 keeps the paper's width


def test_a_zero_initialised_output_starts_every_image_at_the_biases():
    images = np.random.default_rng(0).uniform(0, 1, (2, 448, 448, 3)).astype(np.float32)
    with tf.Graph().as_default():
        with slim.arg_scope(yolo_v1.yolo_v1_arg_scope(is_training=False)):
            outputs, _ = yolo_v1.yolo_v1(tf.constant(images), is_training=False, depth_multiplier=1 / 16,
                                         zero_init_output=True)
        fc1 = [v for v in tf.global_variables() if v.op.name == 'yolo_v1/fc1/weights'][0]
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            values, fc1 = session.run([outputs, fc1])
    assert np.all(values == 0.0) and np.abs(fc1).max() > 0  # fc2 zero (and its biases), fc1 random


def _thin_outputs(images, layers, data_format, values=None):
    """The thin net's outputs and weights, the weights initialised randomly or loaded."""
    with tf.Graph().as_default():
        with slim.arg_scope(yolo_v1.yolo_v1_arg_scope(is_training=False, data_format=data_format)):
            outputs, _ = yolo_v1.yolo_v1(tf.constant(images), is_training=False, layers=layers,
                                         data_format=data_format)
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            for variable in slim.get_model_variables():
                if values is not None:
                    variable.load(values[variable.op.name], session)
            weights = {v.op.name: session.run(v) for v in slim.get_model_variables()}
            return session.run(outputs), weights


def test_nchw_gives_the_same_outputs():
    images = np.random.default_rng(0).uniform(0, 1, (1, 448, 448, 3)).astype(np.float32)
    layers = darknet_layers.thinned(yolo_v1.yolo_v1_layers(), 1 / 16)
    nhwc, weights = _thin_outputs(images, layers, 'NHWC')
    try:
        nchw, _ = _thin_outputs(images, layers, 'NCHW', weights)
    except tf.errors.InvalidArgumentError:
        pytest.skip('NCHW pooling needs a GPU or oneDNN on this TensorFlow build')
    np.testing.assert_allclose(nchw, nhwc, rtol=1e-4, atol=1e-4)
