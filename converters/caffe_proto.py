"""Reading and writing Caffe nets (``.caffemodel`` binaries and ``.prototxt`` text) without Caffe.

The message classes are built at import time from a schema written here: the subset of Caffe's
``caffe.proto`` (BVLC, plus the SSD branch's ``NormalizeParameter``) that weight conversion needs,
with Caffe's field numbers, so the protobuf wire format of any Caffe file parses; fields outside the
subset are kept as unknown fields on read and ignored. Both layer formats are covered:

* the current ``layer`` (``LayerParameter``, field 100, string types such as ``"Convolution"``);
* the legacy V1 ``layers`` (``V1LayerParameter``, field 2, enum types such as ``CONVOLUTION``) that older
  caffemodels such as ``VGG_ILSVRC_16_layers_fc_reduced.caffemodel`` use.

`net_layers` presents both as `CaffeLayer` records; blobs come back as float32 NumPy arrays in Caffe's
layout (convolution weights ``[out, in / group, kh, kw]``, deconvolution ``[in, out / group, kh, kw]``).
"""
import collections

import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message, message_factory, text_format

from tf1zoo.ops import atomic_io

_F = descriptor_pb2.FieldDescriptorProto
_PACKAGE = 'tf1zoo_caffe'

# V1LayerParameter.LayerType, with the current format's type strings (caffe.proto, "V1LayerParameter";
# src/caffe/util/upgrade_proto.cpp's UpgradeV1LayerType gives the names).
V1_LAYER_TYPES = {
    0: 'None', 35: 'AbsVal', 1: 'Accuracy', 30: 'ArgMax', 2: 'BNLL', 3: 'Concat', 37: 'ContrastiveLoss',
    4: 'Convolution', 5: 'Data', 39: 'Deconvolution', 6: 'Dropout', 32: 'DummyData',
    7: 'EuclideanLoss', 25: 'Eltwise', 38: 'Exp', 8: 'Flatten', 9: 'HDF5Data', 10: 'HDF5Output',
    28: 'HingeLoss', 11: 'Im2col', 12: 'ImageData', 13: 'InfogainLoss', 14: 'InnerProduct', 15: 'LRN',
    29: 'MemoryData', 16: 'MultinomialLogisticLoss', 34: 'MVN', 17: 'Pooling', 26: 'Power', 18: 'ReLU',
    19: 'Sigmoid', 27: 'SigmoidCrossEntropyLoss', 36: 'Silence', 20: 'Softmax', 21: 'SoftmaxWithLoss',
    22: 'Split', 33: 'Slice', 23: 'TanH', 24: 'WindowData', 31: 'Threshold',
}
# The enum's value names as they appear in V1 prototxts (CONVOLUTION, INNER_PRODUCT, ...).
_V1_ENUM_NAMES = {
    0: 'NONE', 35: 'ABSVAL', 1: 'ACCURACY', 30: 'ARGMAX', 2: 'BNLL', 3: 'CONCAT', 37: 'CONTRASTIVE_LOSS',
    4: 'CONVOLUTION', 5: 'DATA', 39: 'DECONVOLUTION', 6: 'DROPOUT', 32: 'DUMMY_DATA',
    7: 'EUCLIDEAN_LOSS', 25: 'ELTWISE', 38: 'EXP', 8: 'FLATTEN', 9: 'HDF5_DATA', 10: 'HDF5_OUTPUT',
    28: 'HINGE_LOSS', 11: 'IM2COL', 12: 'IMAGE_DATA', 13: 'INFOGAIN_LOSS', 14: 'INNER_PRODUCT',
    15: 'LRN', 29: 'MEMORY_DATA', 16: 'MULTINOMIAL_LOGISTIC_LOSS', 34: 'MVN', 17: 'POOLING',
    26: 'POWER', 18: 'RELU', 19: 'SIGMOID', 27: 'SIGMOID_CROSS_ENTROPY_LOSS', 36: 'SILENCE',
    20: 'SOFTMAX', 21: 'SOFTMAX_LOSS', 22: 'SPLIT', 33: 'SLICE', 23: 'TANH', 24: 'WINDOW_DATA',
    31: 'THRESHOLD',
}


class CaffeFormatError(ValueError):
    """A file that is not a readable Caffe net (names the file and what is wrong)."""


def _field(name, number, field_type, repeated=False, type_name=None, packed=False, default=None):
    field = _F(name=name, number=number, type=field_type,
               label=_F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL)
    if type_name:
        field.type_name = '.%s.%s' % (_PACKAGE, type_name)
    if packed:
        field.options.packed = True
    if default is not None:
        field.default_value = default
    return field


def _message(file_proto, name, fields):
    proto = file_proto.message_type.add(name=name)
    proto.field.extend(fields)
    return proto


def _schema():
    """The FileDescriptorProto of the caffe.proto subset (proto2, Caffe's field numbers)."""
    schema = descriptor_pb2.FileDescriptorProto(name='tf1zoo_caffe_subset.proto', package=_PACKAGE,
                                                syntax='proto2')
    _message(schema, 'BlobShape', [_field('dim', 1, _F.TYPE_INT64, repeated=True, packed=True)])
    _message(schema, 'BlobProto', [
        _field('shape', 7, _F.TYPE_MESSAGE, type_name='BlobShape'),
        _field('data', 5, _F.TYPE_FLOAT, repeated=True, packed=True),
        _field('double_data', 8, _F.TYPE_DOUBLE, repeated=True, packed=True),
        # Legacy 4-D shape (num, channels, height, width) of files written before BlobShape.
        _field('num', 1, _F.TYPE_INT32, default='0'), _field('channels', 2, _F.TYPE_INT32, default='0'),
        _field('height', 3, _F.TYPE_INT32, default='0'), _field('width', 4, _F.TYPE_INT32, default='0'),
    ])
    _message(schema, 'ConvolutionParameter', [
        _field('num_output', 1, _F.TYPE_UINT32), _field('bias_term', 2, _F.TYPE_BOOL, default='true'),
        _field('pad', 3, _F.TYPE_UINT32, repeated=True),
        _field('kernel_size', 4, _F.TYPE_UINT32, repeated=True),
        _field('group', 5, _F.TYPE_UINT32, default='1'),
        _field('stride', 6, _F.TYPE_UINT32, repeated=True),
        _field('kernel_h', 11, _F.TYPE_UINT32), _field('kernel_w', 12, _F.TYPE_UINT32),
        _field('dilation', 18, _F.TYPE_UINT32, repeated=True),
    ])
    _message(schema, 'InnerProductParameter', [
        _field('num_output', 1, _F.TYPE_UINT32), _field('bias_term', 2, _F.TYPE_BOOL, default='true')])
    _message(schema, 'NormalizeParameter', [  # the SSD branch's Normalize layer
        _field('across_spatial', 1, _F.TYPE_BOOL, default='true'),
        _field('channel_shared', 3, _F.TYPE_BOOL, default='true')])
    _message(schema, 'LayerParameter', [
        _field('name', 1, _F.TYPE_STRING), _field('type', 2, _F.TYPE_STRING),
        _field('bottom', 3, _F.TYPE_STRING, repeated=True),
        _field('top', 4, _F.TYPE_STRING, repeated=True),
        _field('blobs', 7, _F.TYPE_MESSAGE, repeated=True, type_name='BlobProto'),
        _field('convolution_param', 106, _F.TYPE_MESSAGE, type_name='ConvolutionParameter'),
        _field('inner_product_param', 117, _F.TYPE_MESSAGE, type_name='InnerProductParameter'),
        _field('norm_param', 206, _F.TYPE_MESSAGE, type_name='NormalizeParameter'),
    ])
    v1_layer = _message(schema, 'V1LayerParameter', [
        _field('bottom', 2, _F.TYPE_STRING, repeated=True),
        _field('top', 3, _F.TYPE_STRING, repeated=True),
        _field('name', 4, _F.TYPE_STRING),
        _field('type', 5, _F.TYPE_ENUM, type_name='V1LayerParameter.LayerType'),
        _field('blobs', 6, _F.TYPE_MESSAGE, repeated=True, type_name='BlobProto'),
        _field('convolution_param', 10, _F.TYPE_MESSAGE, type_name='ConvolutionParameter'),
        _field('inner_product_param', 17, _F.TYPE_MESSAGE, type_name='InnerProductParameter'),
    ])
    layer_type = v1_layer.enum_type.add(name='LayerType')
    for number, name in sorted(_V1_ENUM_NAMES.items()):
        layer_type.value.add(name=name, number=number)
    _message(schema, 'NetParameter', [
        _field('name', 1, _F.TYPE_STRING),
        _field('input', 3, _F.TYPE_STRING, repeated=True),
        _field('input_shape', 8, _F.TYPE_MESSAGE, repeated=True, type_name='BlobShape'),
        _field('input_dim', 4, _F.TYPE_INT32, repeated=True),
        _field('layer', 100, _F.TYPE_MESSAGE, repeated=True, type_name='LayerParameter'),
        _field('layers', 2, _F.TYPE_MESSAGE, repeated=True, type_name='V1LayerParameter'),
    ])
    return schema


_POOL = descriptor_pool.DescriptorPool()
_POOL.Add(_schema())


def _message_class(name):
    return message_factory.GetMessageClass(_POOL.FindMessageTypeByName(_PACKAGE + '.' + name))


NetParameter = _message_class('NetParameter')
BlobProto = _message_class('BlobProto')

# One layer of either format: type is the current format's string ('Convolution', 'Normalize', ...),
# params the layer message (for its convolution_param, norm_param, ...), blobs float32 arrays.
CaffeLayer = collections.namedtuple('CaffeLayer', ['name', 'type', 'bottoms', 'tops', 'params', 'blobs'])


def blob_to_array(blob):
    """A BlobProto as a float32 array of its shape (its BlobShape, or the legacy 4-D num/channels/h/w)."""
    if blob.HasField('shape'):
        shape = tuple(blob.shape.dim)
    else:
        # Legacy blobs are always 4-D, padded with leading 1s (a bias is 1 x 1 x 1 x n); the
        # converter drops those where its layer expects fewer axes (`caffe_to_tf.to_tf_layout`).
        shape = (blob.num, blob.channels, blob.height, blob.width)
    values = blob.data if len(blob.data) else blob.double_data
    array = np.asarray(values, dtype=np.float32)
    if array.size != int(np.prod(shape)):
        raise CaffeFormatError('a blob holds %d values for shape %s' % (array.size, list(shape)))
    return array.reshape(shape)


def array_to_blob(array):
    """A float32 array as a BlobProto with a BlobShape (the current format)."""
    array = np.asarray(array, dtype=np.float32)
    blob = BlobProto()
    blob.shape.dim.extend(array.shape)
    blob.data.extend(array.ravel().tolist())
    return blob


def net_layers(net):
    """The layers of a NetParameter, current format and V1 alike, as `CaffeLayer`s in file order."""
    layers = [CaffeLayer(layer.name, layer.type, tuple(layer.bottom), tuple(layer.top), layer,
                         tuple(blob_to_array(blob) for blob in layer.blobs)) for layer in net.layer]
    layers.extend(CaffeLayer(layer.name, V1_LAYER_TYPES.get(layer.type, str(layer.type)),
                             tuple(layer.bottom), tuple(layer.top), layer,
                             tuple(blob_to_array(blob) for blob in layer.blobs))
                  for layer in net.layers)
    return layers


def read_caffemodel(path):
    """Parses a binary ``.caffemodel``.

    Raises:
      CaffeFormatError: unreadable, not a Caffe net (e.g. truncated), or without any layer.
    """
    try:
        with open(path, 'rb') as stream:
            data = stream.read()
    except OSError as error:
        raise CaffeFormatError('cannot read caffemodel %s: %s' % (path, error)) from error
    net = NetParameter()
    try:
        net.ParseFromString(data)
    except message.DecodeError as error:
        raise CaffeFormatError('%s is not a Caffe binary net (truncated or another format): %s'
                               % (path, error)) from error
    if not net.layer and not net.layers:
        raise CaffeFormatError('%s holds no Caffe layers (is it a caffemodel?)' % path)
    return net


def read_caffemodel_layers(path):
    """`net_layers` of the caffemodel at ``path``; a blob whose values do not fill its shape is a
    CaffeFormatError naming the file."""
    net = read_caffemodel(path)
    try:
        return net_layers(net)
    except CaffeFormatError as error:
        raise CaffeFormatError('%s: %s' % (path, error)) from error


def read_prototxt(path):
    """Parses a text ``.prototxt``; fields outside the subset are skipped."""
    try:
        with open(path) as stream:
            text = stream.read()
    except OSError as error:
        raise CaffeFormatError('cannot read prototxt %s: %s' % (path, error)) from error
    net = NetParameter()
    try:
        text_format.Parse(text, net, allow_unknown_field=True)
    except text_format.ParseError as error:
        raise CaffeFormatError('%s is not a Caffe text net: %s' % (path, error)) from error
    return net


def write_caffemodel(net, path):
    """Serialises a NetParameter to ``path`` atomically (a temporary file, then a rename)."""
    atomic_io.write_file_atomically(path, net.SerializeToString())
