"""Caffe nets without Caffe: blob layouts, both layer formats, prototxt parsing, bad files."""
import numpy as np
import pytest
from google.protobuf.internal import encoder

from tf1zoo.converters import caffe_proto, caffe_to_tf, caffe_weights


def _varint(value):
    return encoder._VarintBytes(value)  # noqa: SLF001  (protobuf's own varint writer)


def _field_bytes(number, payload):
    """A length-delimited field, written by hand from the protobuf wire format (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def test_blob_round_trip_keeps_shape_and_values():
    array = np.arange(24, dtype=np.float32).reshape(2, 3, 2, 2) / 7
    np.testing.assert_array_equal(caffe_proto.blob_to_array(caffe_proto.array_to_blob(array)), array)


def test_legacy_blob_keeps_its_4d_shape_and_the_converter_drops_leading_ones():
    bias = caffe_proto.BlobProto(num=1, channels=1, height=1, width=3)
    bias.data.extend([1.0, 2.0, 3.0])
    assert caffe_proto.blob_to_array(bias).shape == (1, 1, 1, 3)
    np.testing.assert_array_equal(
        caffe_to_tf.to_tf_layout('Convolution', 'conv', 1, caffe_proto.blob_to_array(bias)), [1, 2, 3])
    # A single-output convolution keeps its leading 1: weights [1, 2, 1, 1] -> [1, 1, 2, 1].
    weights = caffe_proto.BlobProto(num=1, channels=2, height=1, width=1)
    weights.data.extend([4.0, 5.0])
    converted = caffe_to_tf.to_tf_layout('Convolution', 'conv', 0, caffe_proto.blob_to_array(weights))
    np.testing.assert_array_equal(converted, np.reshape([4.0, 5.0], (1, 1, 2, 1)))
    fc_weights = caffe_proto.BlobProto(num=1, channels=1, height=3, width=2)
    fc_weights.data.extend(range(6))
    converted = caffe_to_tf.to_tf_layout('InnerProduct', 'fc', 0, caffe_proto.blob_to_array(fc_weights))
    np.testing.assert_array_equal(converted, np.arange(6).reshape(3, 2).T)


def test_reads_a_v1_layer_written_by_hand_from_the_wire_format(tmp_path):
    # NetParameter.layers (2) { name (4): "conv1", type (5): CONVOLUTION = 4, blobs (6) {
    #   num 1, channels 1, height 1, width 2, data (5, packed float) [0.5, -2] } }
    blob = (bytes([1 << 3, 1, 2 << 3, 1, 3 << 3, 1, 4 << 3, 2])
            + _field_bytes(5, np.asarray([0.5, -2.0], '<f4').tobytes()))
    layer = _field_bytes(4, b'conv1') + bytes([5 << 3, 4]) + _field_bytes(6, blob)
    path = tmp_path / 'v1.caffemodel'
    path.write_bytes(_field_bytes(2, layer))
    (parsed,) = caffe_proto.net_layers(caffe_proto.read_caffemodel(str(path)))
    assert (parsed.name, parsed.type) == ('conv1', 'Convolution')
    np.testing.assert_array_equal(parsed.blobs[0], [[[[0.5, -2.0]]]])


def test_writes_the_current_format_that_reads_back(tmp_path):
    net = caffe_proto.NetParameter(name='n')
    layer = net.layer.add(name='fc', type='InnerProduct')
    layer.blobs.append(caffe_proto.array_to_blob(np.ones((4, 3))))
    path = tmp_path / 'n.caffemodel'
    caffe_proto.write_caffemodel(net, str(path))
    (parsed,) = caffe_proto.net_layers(caffe_proto.read_caffemodel(str(path)))
    assert parsed.type == 'InnerProduct' and parsed.blobs[0].shape == (4, 3)
    assert [p.name for p in tmp_path.iterdir()] == ['n.caffemodel']


def test_truncated_and_foreign_files_name_the_file(tmp_path):
    net = caffe_proto.NetParameter()
    net.layer.add(name='conv', type='Convolution').blobs.append(
        caffe_proto.array_to_blob(np.ones((8, 3, 3, 3))))
    truncated = tmp_path / 'truncated.caffemodel'
    truncated.write_bytes(net.SerializeToString()[:-40])
    with pytest.raises(caffe_proto.CaffeFormatError, match='truncated.caffemodel'):
        caffe_proto.read_caffemodel(str(truncated))
    text = tmp_path / 'text.caffemodel'
    text.write_text('name: "not a binary net"\n')
    with pytest.raises(caffe_proto.CaffeFormatError, match='text.caffemodel'):
        caffe_proto.read_caffemodel(str(text))
    with pytest.raises(caffe_proto.CaffeFormatError, match='missing.caffemodel'):
        caffe_proto.read_caffemodel(str(tmp_path / 'missing.caffemodel'))


def test_parameter_shapes_of_the_released_ssd300(caffe_reference_dir):
    deploy = caffe_proto.read_prototxt(str(caffe_reference_dir / 'ssd300_vgg16_voc0712_deploy.prototxt'))
    shapes = caffe_weights.parameter_shapes(deploy)
    # 13 VGG convolutions, fc6, fc7, 8 extra layers, Normalize, 2 x 6 heads.
    assert len(shapes) == 13 + 2 + 8 + 1 + 12
    assert shapes['conv1_1'] == [(64, 3, 3, 3), (64,)]
    assert shapes['fc6'] == [(1024, 512, 3, 3), (1024,)]
    assert shapes['conv6_1'] == [(256, 1024, 1, 1), (256,)]
    assert shapes['conv4_3_norm'] == [(512,)]
    # 4 priors x 21 classes on conv4_3; 6 priors x 4 offsets on fc7.
    assert shapes['conv4_3_norm_mbox_conf'] == [(84, 512, 3, 3), (84,)]
    assert shapes['fc7_mbox_loc'] == [(24, 1024, 3, 3), (24,)]


def test_parameter_shapes_of_the_v1_vgg_base(caffe_reference_dir):
    deploy = caffe_proto.read_prototxt(str(caffe_reference_dir / 'vgg16_fc_reduced_deploy.prototxt'))
    assert deploy.layers and not deploy.layer
    shapes = caffe_weights.parameter_shapes(deploy)
    assert shapes['fc7'] == [(1024, 1024, 1, 1), (1024,)]
    assert shapes['fc8'] == [(1000, 1024, 1, 1), (1000,)]
