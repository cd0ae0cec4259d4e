"""darknet's layers: cfg sections <-> layer table <-> JSON, and darknet's pooling and padding rules."""
import pathlib

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tf_slim as slim

from tf1zoo.converters import darknet
from tf1zoo.nets import darknet_layers, yolo_v1
from tf1zoo.nets.darknet_layers import Connected, Convolutional, Crop, Detection, Dropout, Local, MaxPool

DARKNET_DIR = pathlib.Path(__file__).resolve().parents[3] / 'shared' / 'reference' / 'darknet'


def _table(name):
    if not DARKNET_DIR.is_dir():
        pytest.skip('../shared/reference/darknet is absent')
    path = str(DARKNET_DIR / name)
    return darknet_layers.layers_from_cfg(darknet.read_cfg(path), path)


def _counts(layers):
    return {kind.__name__: sum(isinstance(layer, kind) for layer in layers)
            for kind in (Convolutional, MaxPool, Local, Connected, Dropout, Crop, Detection)}


def test_the_published_cfgs_read_into_their_tables():
    net, yolov1 = _table('yolov1.cfg')
    assert net['height'] == '448' and _counts(yolov1) == {
        'Convolutional': 24, 'MaxPool': 4, 'Local': 1, 'Connected': 1, 'Dropout': 1, 'Crop': 0,
        'Detection': 1}
    assert yolov1[-2] == Connected(1715, 'linear') and yolov1[-1].num == 3
    assert all(layer.batch_normalize for layer in yolov1 if isinstance(layer, Convolutional))
    assert [layer for layer in yolov1 if isinstance(layer, Local)] == [Local(256, 3, 1, 1, 'leaky')]
    _, tiny = _table('yolov1-tiny.cfg')
    # (The shared README says 9 convolutions; the cfg holds 8.)
    assert _counts(tiny)['Convolutional'] == 8 and _counts(tiny)['MaxPool'] == 6
    _, small = _table('yolo-small.cfg')
    assert [layer.outputs for layer in small if isinstance(layer, Connected)] == [512, 4096, 1470]
    _, paper_2015 = _table('yolo-2015.cfg')
    assert paper_2015[0] == Crop(448, 448, adjust=True)
    # The 2015 cfg is the paper's net behind its [crop] (which maps [0, 1] to [-1, 1]).
    assert paper_2015[1:] == yolo_v1.yolo_v1_layers()


def test_the_paper_cfg_the_repository_writes_reads_back_as_the_table():
    text = darknet.format_cfg(darknet_layers.cfg_sections(yolo_v1.yolo_v1_layers(), {'height': 448}))
    net, layers = darknet_layers.layers_from_cfg(darknet.parse_cfg(text))
    assert net == {'height': '448'} and layers == yolo_v1.yolo_v1_layers()
    assert '[convolutional]\nfilters=64\nsize=7\nstride=2\npad=1\nactivation=leaky' in text


def test_json_round_trip():
    _, layers = _table('yolov1.cfg')
    assert darknet_layers.layers_from_json(darknet_layers.layers_to_json(layers)) == layers


def test_unsupported_sections_and_bad_options_name_the_line():
    with pytest.raises(ValueError, match=r'my\.cfg:3: darknet layer \[route\] is not supported'):
        darknet_layers.layers_from_cfg(darknet.parse_cfg('[net]\nheight=448\n[route]\nlayers=-1\n'),
                                       'my.cfg')
    with pytest.raises(ValueError, match=r'my\.cfg:1: filters=.x. is not a number'):
        darknet_layers.layers_from_cfg(darknet.parse_cfg('[convolutional]\nfilters=x\n'), 'my.cfg')
    with pytest.raises(ValueError, match='activation=mish'):
        darknet_layers.layers_from_cfg(darknet.parse_cfg('[convolutional]\nactivation=mish\n'), 'c')


def _run(layers, image):
    with tf.Graph().as_default():
        with slim.arg_scope(darknet_layers.darknet_arg_scope(is_training=False)):
            output, _ = darknet_layers.darknet_net(tf.constant(image), layers, is_training=False)
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            return session.run(output), {v.op.name: session.run(v) for v in slim.get_model_variables()}


def test_maxpool_pads_after_the_map_as_darknet_does():
    # 5 x 5, 2x2/2 with darknet's padding size - 1 = 1: (5 + 1 - 2) / 2 + 1 = 3 outputs; the last
    # window holds the last row / column alone (offset -padding/2 = 0).
    image = np.arange(25, dtype=np.float32).reshape(1, 5, 5, 1) - 30.0  # all negative: r * 5 + c - 30
    output, _ = _run((MaxPool(2, 2),), image)
    np.testing.assert_array_equal(output[0, :, :, 0], [[-24, -22, -21], [-14, -12, -11], [-9, -7, -6]])
    # 3x3/1 with padding 2: one pixel before and one after; a corner window sees 2 x 2 pixels.
    output, _ = _run((MaxPool(3, 1),), image)
    assert output.shape == (1, 5, 5, 1) and output[0, 0, 0, 0] == -24 and output[0, 4, 4, 0] == -6


def test_a_strided_convolution_pads_symmetrically_not_as_tf_same():
    image = np.random.default_rng(0).normal(size=(1, 8, 8, 1)).astype(np.float32)
    output, variables = _run((Convolutional(1, 3, 2, padding=1, activation='linear'),), image)
    kernel = variables['darknet/conv1/weights'][:, :, 0, 0]
    padded = np.pad(image[0, :, :, 0], 1)
    expected = np.array([[np.sum(padded[2 * i:2 * i + 3, 2 * j:2 * j + 3] * kernel)
                          for j in range(4)] for i in range(4)])
    np.testing.assert_allclose(output[0, :, :, 0], expected, rtol=1e-5, atol=1e-5)


def test_connected_flattens_channel_major_and_local_unshares_weights():
    image = np.random.default_rng(1).normal(size=(1, 2, 2, 3)).astype(np.float32)
    output, variables = _run((Connected(1, 'linear'),), image)
    weights = variables['darknet/fc1/weights'][:, 0]
    np.testing.assert_allclose(output[0, 0], image[0].transpose(2, 0, 1).reshape(-1) @ weights,
                               rtol=1e-5)
    output, variables = _run((Local(2, 1, activation='linear'),), image)
    w, b = variables['darknet/local1/weights'], variables['darknet/local1/biases']
    assert w.shape == (4, 1, 1, 3, 2) and b.shape == (2, 2, 2)
    for position in range(4):
        row, col = divmod(position, 2)
        np.testing.assert_allclose(output[0, row, col], image[0, row, col] @ w[position, 0, 0] + b[row, col],
                                   rtol=1e-5)
