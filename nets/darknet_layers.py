"""darknet's layers with darknet's semantics, built from a layer table (the shape of a darknet cfg).

A darknet net is a list of sections (``[convolutional]``, ``[maxpool]``, ``[local]``, ...); here the
same list is a tuple of the layer records below, and `darknet_net` builds it in TF so that darknet's
weights fit it and its outputs equal darknet's (pjreddie/darknet, src/*_layer.c):

* ``[convolutional]``: ``pad=1`` pads ``size // 2`` pixels on every side (symmetric, then VALID; TF's
  SAME would pad a strided convolution asymmetrically), output ``(w + 2 pad - size) / stride + 1``;
  with ``batch_normalize=1`` no bias, batch norm (gamma and beta) before the activation.
* ``[maxpool]``: ``padding`` defaults to ``size - 1`` in total, ``padding // 2`` of it before the map
  (the rest after), output ``(w + padding - size) / stride + 1``; padded pixels never win.
* ``[local]``: a locally connected layer, unshared weights per output position, ``pad`` pixels on
  every side (``pad=1`` with ``size=3`` keeps the size).
* ``[connected]``: a fully connected layer on the input flattened in darknet's channel-major
  ``(C, H, W)`` order, whatever the layout of the TF tensors.
* ``[avgpool]``: the mean over the map; ``[softmax]`` (darknet's ImageNet classifiers end so).
* ``[dropout]``: inverted dropout in training; ``[crop]`` at test time: the centre crop to
  ``crop_height x crop_width`` and, unless ``noadjust=1``, the input mapped from [0, 1] to [-1, 1].
* activations: ``leaky`` is max(x, 0.1 x), ``linear`` the identity.
* ``[detection]`` has no weights; it says how the last output is read (see `Detection`).

A ``[convolutional]`` of size 3, stride 1 and ``pad=1`` pads symmetrically anyway, so it is built
as TF's SAME through `ops.winograd.conv2d`: slim's direct convolution, or with a Winograd tile size
set in `darknet_arg_scope` Winograd's F(m x m, 3 x 3) (the same variables, the same outputs up to
float rounding; a CPU inference speed-up, as OpenCV's DNN module runs these layers).

Variables are named by layer type and a 1-based count per type (``conv1``, ..., ``local1``,
``fc1``), in darknet's layer order, which is also the order of a ``.weights`` file.
"""
import dataclasses
import functools
from typing import Optional, Tuple

import numpy as np
import tensorflow.compat.v1 as tf
import tf_slim as slim

from tf1zoo.ops import winograd

LEAKY_SLOPE = 0.1
# slim's batch norm epsilon here; darknet divides by sqrt(variance) + 1e-6 instead, which the weight
# converter folds into gamma (engine/darknet_conversion.py).
BATCH_NORM_EPSILON = 1e-5
DARKNET_NORMALIZE_EPSILON = 1e-6
ACTIVATIONS = ('leaky', 'linear', 'relu', 'logistic')


@dataclasses.dataclass(frozen=True)
class Convolutional:
    filters: int
    size: int
    stride: int = 1
    padding: int = 0            # pixels on each side; a cfg's pad=1 means size // 2
    batch_normalize: bool = False
    activation: str = 'leaky'


@dataclasses.dataclass(frozen=True)
class MaxPool:
    size: int = 2
    stride: int = 2
    padding: Optional[int] = None  # total; None is darknet's default, size - 1


@dataclasses.dataclass(frozen=True)
class Local:
    filters: int
    size: int
    stride: int = 1
    padding: int = 0
    activation: str = 'leaky'


@dataclasses.dataclass(frozen=True)
class Connected:
    outputs: int
    activation: str = 'linear'
    batch_normalize: bool = False


@dataclasses.dataclass(frozen=True)
class Dropout:
    probability: float = 0.5


@dataclasses.dataclass(frozen=True)
class AvgPool:
    """``[avgpool]``: the mean over the whole map, per channel (darknet's classifiers)."""


@dataclasses.dataclass(frozen=True)
class Softmax:
    groups: int = 1


@dataclasses.dataclass(frozen=True)
class Crop:
    height: int
    width: int
    adjust: bool = True         # map [0, 1] to [-1, 1] (darknet's crop layer unless noadjust=1)


@dataclasses.dataclass(frozen=True)
class Detection:
    """The ``[detection]`` section: the last layer's S*S*C class probabilities, then S*S*B
    confidences, then S*S*B*4 box codes, and the loss scales of its training."""

    classes: int = 20
    coords: int = 4
    side: int = 7
    num: int = 2
    sqrt: bool = True
    rescore: bool = True
    softmax: bool = False
    object_scale: float = 1.0
    noobject_scale: float = 0.5
    class_scale: float = 1.0
    coord_scale: float = 5.0
    jitter: float = 0.2

    @property
    def outputs(self):
        return self.side * self.side * (self.classes + self.num * (1 + self.coords))


WEIGHTED_LAYERS = (Convolutional, Local, Connected)
_SCOPE_PREFIX = {Convolutional: 'conv', MaxPool: 'pool', Local: 'local', Connected: 'fc',
                 Dropout: 'dropout', Crop: 'crop', AvgPool: 'avgpool', Softmax: 'softmax'}


def layer_scopes(layers):
    """Each layer's scope name (``conv1``, ``pool1``, ``fc1``, ...); None for a `Detection`."""
    counts, names = {}, []
    for layer in layers:
        prefix = _SCOPE_PREFIX.get(type(layer))
        if prefix is None:
            names.append(None)
            continue
        counts[prefix] = counts.get(prefix, 0) + 1
        names.append('%s%d' % (prefix, counts[prefix]))
    return tuple(names)


def thinned(layers, depth_multiplier, thin_connected=True):
    """The table with every convolution, local and hidden connected layer's width multiplied by
    ``depth_multiplier`` (at least 1); the last connected layer (the output) keeps its width, and
    without ``thin_connected`` the hidden connected layers keep theirs too."""
    if depth_multiplier == 1.0:
        return tuple(layers)
    connected = [i for i, layer in enumerate(layers) if isinstance(layer, Connected)]
    last = connected[-1] if connected else None

    def thin(width):
        return max(1, int(width * depth_multiplier))

    result = []
    for index, layer in enumerate(layers):
        if isinstance(layer, (Convolutional, Local)):
            layer = dataclasses.replace(layer, filters=thin(layer.filters))
        elif isinstance(layer, Connected) and index != last and thin_connected:
            layer = dataclasses.replace(layer, outputs=thin(layer.outputs))
        result.append(layer)
    return tuple(result)


def with_dropout(layers, probability):
    """The table with every `Dropout` layer's probability replaced (0 keeps the layer, inert)."""
    return tuple(dataclasses.replace(layer, probability=probability) if isinstance(layer, Dropout)
                 else layer for layer in layers)


def activation_fn(name):
    """The TF function of a darknet activation name."""
    if name == 'leaky':
        return lambda x: tf.nn.leaky_relu(x, alpha=LEAKY_SLOPE)
    if name == 'linear':
        return None
    if name == 'relu':
        return tf.nn.relu
    if name == 'logistic':
        return tf.sigmoid
    raise ValueError('unknown darknet activation %r (known: %s)' % (name, ', '.join(ACTIVATIONS)))


def darknet_arg_scope(weight_decay=0.0005, is_training=True, data_format='NHWC',
                      winograd_tile_size=None):
    """Weight decay on weights only (darknet's ``decay``), darknet's scaled uniform initialisation
    (``sqrt(2 / fan_in)``), batch norm with its moving statistics updated in training.

    ``winograd_tile_size`` (None, 2, 4, 6 or `winograd.ADAPTIVE`): the 3x3 stride-1 ``pad=1``
    convolutions with enough input channels run as Winograd F(m x m, 3 x 3) (NHWC only); outside
    training the transformed filters are cached in local variables (run
    ``tf.local_variables_initializer()`` after restoring the weights)."""
    initializer = slim.variance_scaling_initializer(factor=2.0, mode='FAN_IN', uniform=True)
    regularizer = slim.l2_regularizer(weight_decay) if weight_decay else None
    with slim.arg_scope([slim.conv2d, slim.fully_connected, locally_connected],
                        weights_initializer=initializer, weights_regularizer=regularizer):
        with slim.arg_scope([slim.batch_norm], is_training=is_training, scale=True,
                            epsilon=BATCH_NORM_EPSILON, decay=0.99, fused=True,
                            data_format=data_format):
            with slim.arg_scope([slim.conv2d, slim.max_pool2d], data_format=data_format,
                                padding='VALID'):
                with slim.arg_scope([locally_connected], data_format=data_format), \
                        slim.arg_scope([winograd.conv2d], tile_size=winograd_tile_size,
                                       cache_filters=is_training is False) as scope:
                    return scope


def _spatial_pad(net, before, after, data_format, value=0.0):
    if before == 0 and after == 0:
        return net
    spatial = [[before, after], [before, after]]
    paddings = [[0, 0]] + spatial + [[0, 0]] if data_format == 'NHWC' else [[0, 0], [0, 0]] + spatial
    return tf.pad(net, paddings, constant_values=value)


def _spatial_size(net, data_format):
    shape = net.shape.as_list()
    return (shape[1], shape[2]) if data_format == 'NHWC' else (shape[2], shape[3])


def _convolutional(net, layer, scope, data_format):
    normalizer = slim.batch_norm if layer.batch_normalize else None
    if layer.size == 3 and layer.stride == 1 and layer.padding == 1:
        # Symmetric either way: SAME, direct or Winograd as the arg_scope says.
        return winograd.conv2d(net, layer.filters, 3, stride=1, padding='SAME',
                               activation_fn=activation_fn(layer.activation),
                               normalizer_fn=normalizer, data_format=data_format, scope=scope)
    net = _spatial_pad(net, layer.padding, layer.padding, data_format)
    return slim.conv2d(net, layer.filters, layer.size, stride=layer.stride,
                       activation_fn=activation_fn(layer.activation), normalizer_fn=normalizer,
                       padding='VALID', data_format=data_format, scope=scope)


def _maxpool(net, layer, scope, data_format):
    padding = layer.size - 1 if layer.padding is None else layer.padding
    height, width = _spatial_size(net, data_format)
    if height != width:
        raise ValueError('%s: darknet nets here take square maps, got %dx%d' % (scope, height, width))
    out = (width + padding - layer.size) // layer.stride + 1
    before = padding // 2
    after = max((out - 1) * layer.stride + layer.size - width - before, 0)
    net = _spatial_pad(net, before, after, data_format, value=-np.inf)
    return slim.max_pool2d(net, layer.size, stride=layer.stride, padding='VALID',
                           data_format=data_format, scope=scope)


def _to_nhwc(net, data_format):
    return net if data_format == 'NHWC' else tf.transpose(net, [0, 2, 3, 1])


@slim.add_arg_scope
def locally_connected(inputs, filters, size, stride=1, padding=0, activation_fn=None,
                      weights_initializer=None, weights_regularizer=None, data_format='NHWC',
                      scope=None):
    """darknet's ``[local]``: a convolution whose weights differ at every output position.

    Variables: ``weights`` ``[out_h * out_w, size, size, in_channels, filters]`` and ``biases``
    ``[out_h, out_w, filters]`` (darknet keeps a bias per output value). ``padding`` pixels are
    added on every side.
    """
    net = _to_nhwc(inputs, data_format)
    channels = net.shape.as_list()[-1]
    net = _spatial_pad(net, padding, padding, 'NHWC')
    with tf.variable_scope(scope, 'local', [inputs]):
        patches = tf.image.extract_patches(net, [1, size, size, 1], [1, stride, stride, 1],
                                           [1, 1, 1, 1], 'VALID')
        out_h, out_w = patches.shape.as_list()[1:3]
        depth = size * size * channels
        weights = slim.model_variable('weights', [out_h * out_w, size, size, channels, filters],
                                      initializer=weights_initializer,
                                      regularizer=weights_regularizer)
        biases = slim.model_variable('biases', [out_h, out_w, filters],
                                     initializer=tf.zeros_initializer())
        outputs = tf.einsum('bpk,pkf->bpf', tf.reshape(patches, [-1, out_h * out_w, depth]),
                            tf.reshape(weights, [out_h * out_w, depth, filters]))
        outputs = tf.reshape(outputs, [-1, out_h, out_w, filters]) + biases
        if activation_fn is not None:
            outputs = activation_fn(outputs)
    return outputs if data_format == 'NHWC' else tf.transpose(outputs, [0, 3, 1, 2])


def _flatten_channel_major(net, data_format):
    if len(net.shape) == 2:
        return net
    if data_format == 'NHWC':
        net = tf.transpose(net, [0, 3, 1, 2])
    return tf.reshape(net, [-1, int(np.prod(net.shape.as_list()[1:]))])


def _connected(net, layer, scope, data_format, zero_weights=False):
    net = _flatten_channel_major(net, data_format)
    normalizer = _batch_norm_2d if layer.batch_normalize else None
    initializer = {'weights_initializer': tf.zeros_initializer()} if zero_weights else {}
    return slim.fully_connected(net, layer.outputs, activation_fn=activation_fn(layer.activation),
                                normalizer_fn=normalizer, scope=scope, **initializer)


def _batch_norm_2d(net, scope='BatchNorm'):
    """Batch norm of ``[batch, outputs]`` as ``[batch, 1, 1, outputs]``: tf-slim's unfused path for
    2-D inputs fails on TF 2.21 (``ops.Tensor``), the fused kernel takes NHWC maps."""
    outputs = net.shape.as_list()[-1]
    normalized = slim.batch_norm(tf.reshape(net, [-1, 1, 1, outputs]), data_format='NHWC',
                                 scope=scope)
    return tf.reshape(normalized, [-1, outputs])


def _crop(net, layer, data_format):
    height, width = _spatial_size(net, data_format)
    top, left = (height - layer.height) // 2, (width - layer.width) // 2
    if top < 0 or left < 0:
        raise ValueError('[crop] %dx%d is larger than the %dx%d input'
                         % (layer.height, layer.width, height, width))
    if data_format == 'NHWC':
        net = net[:, top:top + layer.height, left:left + layer.width, :]
    else:
        net = net[:, :, top:top + layer.height, left:left + layer.width]
    return net * 2.0 - 1.0 if layer.adjust else net


def darknet_net(inputs, layers, is_training=True, data_format='NHWC', scope=None,
                zero_init_output=False):
    """Builds ``layers`` on ``inputs``.

    Args:
      inputs: float32 ``[batch, height, width, channels]`` (or NCHW) in darknet's input range.
      layers: the layer table (a `Detection` ends it or is absent).
      is_training: Python bool or bool tensor (dropout; batch norm follows the arg_scope).
      data_format: 'NHWC' or 'NCHW'.
      scope: variable scope.
      zero_init_output: the last connected layer's weights start at zero (its outputs start at
        their biases, the same for every image) instead of darknet's random initialisation.

    Returns:
      (the last layer's output, end_points keyed by each layer's scope name).
    """
    end_points = {}
    connected = [index for index, layer in enumerate(layers) if isinstance(layer, Connected)]
    output_index = connected[-1] if connected and zero_init_output else None
    with tf.variable_scope(scope, 'darknet', [inputs]) as sc:
        net = inputs
        for index, (layer, name) in enumerate(zip(layers, layer_scopes(layers))):
            if isinstance(layer, Convolutional):
                net = _convolutional(net, layer, name, data_format)
            elif isinstance(layer, MaxPool):
                net = _maxpool(net, layer, name, data_format)
            elif isinstance(layer, Local):
                net = locally_connected(net, layer.filters, layer.size, layer.stride, layer.padding,
                                        activation_fn=activation_fn(layer.activation),
                                        data_format=data_format, scope=name)
            elif isinstance(layer, Connected):
                net = _connected(net, layer, name, data_format, zero_weights=index == output_index)
            elif isinstance(layer, Dropout):
                net = slim.dropout(net, keep_prob=1.0 - layer.probability, is_training=is_training,
                                   scope=name)
            elif isinstance(layer, Crop):
                net = _crop(net, layer, data_format)
            elif isinstance(layer, AvgPool):
                net = tf.reduce_mean(net, axis=[1, 2] if data_format == 'NHWC' else [2, 3])
            elif isinstance(layer, Softmax):
                if layer.groups != 1:
                    raise ValueError('[softmax] groups=%d is not supported' % layer.groups)
                net = tf.nn.softmax(net)
            elif isinstance(layer, Detection):
                continue
            else:
                raise TypeError('not a darknet layer: %r' % (layer,))
            end_points[sc.name + '/' + name] = net
        return net, end_points


def detection_layer(layers):
    """The table's `Detection`, or an error naming what is missing."""
    found = [layer for layer in layers if isinstance(layer, Detection)]
    if len(found) != 1:
        raise ValueError('a YOLO v1 layer table needs exactly one [detection] layer, found %d'
                         % len(found))
    return found[0]


def weight_layers(layers) -> Tuple:
    """(scope name, layer) of each layer with weights, in the table's (the weights file's) order."""
    return tuple((name, layer) for layer, name in zip(layers, layer_scopes(layers))
                 if isinstance(layer, WEIGHTED_LAYERS))


# A cfg section and its options <-> a layer record. Options absent from a section take darknet's
# defaults (parse_* in src/parser.c).
_SECTION_TYPES = {'convolutional': Convolutional, 'conv': Convolutional, 'maxpool': MaxPool,
                  'max': MaxPool, 'local': Local, 'connected': Connected, 'conn': Connected,
                  'dropout': Dropout, 'crop': Crop, 'detection': Detection, 'avgpool': AvgPool,
                  'avg': AvgPool, 'softmax': Softmax, 'soft': Softmax}
_CFG_NAMES = {Convolutional: 'convolutional', MaxPool: 'maxpool', Local: 'local',
              Connected: 'connected', Dropout: 'dropout', Crop: 'crop', Detection: 'detection',
              AvgPool: 'avgpool', Softmax: 'softmax'}
# Sections that only configure training or are read elsewhere.
_IGNORED_SECTIONS = ('net', 'network')


def _option(options, key, kind, default, where):
    if key not in options:
        if default is _REQUIRED:
            raise ValueError('%s: [%s] needs %s=' % (where[0], where[1], key))
        return default
    try:
        return kind(float(options[key])) if kind is not str else options[key]
    except ValueError:
        raise ValueError('%s: %s=%r is not a number' % (where[0], key, options[key])) from None


_REQUIRED = object()


def _layer_from_section(name, options, where):
    get = functools.partial(_option, options, where=where)
    if name in ('convolutional', 'conv'):
        size = get('size', int, 1)
        padding = size // 2 if get('pad', int, 0) else get('padding', int, 0)
        return Convolutional(get('filters', int, 1), size, get('stride', int, 1), padding,
                             bool(get('batch_normalize', int, 0)), get('activation', str, 'logistic'))
    if name in ('maxpool', 'max'):
        stride = get('stride', int, 1)
        size = get('size', int, stride)
        return MaxPool(size, stride, get('padding', int, None))
    if name == 'local':
        return Local(get('filters', int, 1), get('size', int, 1), get('stride', int, 1),
                     get('pad', int, 0), get('activation', str, 'logistic'))
    if name in ('connected', 'conn'):
        return Connected(get('output', int, 1), get('activation', str, 'logistic'),
                         bool(get('batch_normalize', int, 0)))
    if name == 'dropout':
        return Dropout(get('probability', float, 0.5))
    if name in ('avgpool', 'avg'):
        return AvgPool()
    if name in ('softmax', 'soft'):
        return Softmax(get('groups', int, 1))
    if name == 'crop':
        return Crop(get('crop_height', int, _REQUIRED), get('crop_width', int, _REQUIRED),
                    not get('noadjust', int, 0))
    return Detection(
        classes=get('classes', int, 1), coords=get('coords', int, 1), side=get('side', int, 7),
        num=get('num', int, 1), sqrt=bool(get('sqrt', int, 0)), rescore=bool(get('rescore', int, 0)),
        softmax=bool(get('softmax', int, 0)), object_scale=get('object_scale', float, 1.0),
        noobject_scale=get('noobject_scale', float, 1.0), class_scale=get('class_scale', float, 1.0),
        coord_scale=get('coord_scale', float, 1.0), jitter=get('jitter', float, 0.2))


def layers_from_cfg(sections, path='<cfg>'):
    """(the ``[net]`` section's options, the layer table) of a parsed cfg.

    Args:
      sections: ``(name, options, line)`` triples in file order (`converters.darknet.read_cfg`).
      path: the cfg's name for messages.

    Raises:
      ValueError: a section type this module does not build, or a bad option (file and line named).
    """
    net_options, layers = {}, []
    for name, options, line in sections:
        name = name.lower()
        where = ('%s:%d' % (path, line), name)
        if name in _IGNORED_SECTIONS:
            net_options = dict(options)
        elif name in _SECTION_TYPES:
            layer = _layer_from_section(name, options, where)
            if getattr(layer, 'activation', 'linear') not in ACTIVATIONS:
                raise ValueError('%s: [%s] activation=%s is not one of %s'
                                 % (where[0], name, layer.activation, ', '.join(ACTIVATIONS)))
            layers.append(layer)
        else:
            raise ValueError('%s: darknet layer [%s] is not supported here (supported: %s)'
                             % (where[0], name, ', '.join(sorted(set(_CFG_NAMES.values())))))
    if not layers:
        raise ValueError('%s: no layer after [net]' % path)
    return net_options, tuple(layers)


def cfg_sections(layers, net_options):
    """``(name, options)`` pairs of a cfg for ``layers`` (the inverse of `layers_from_cfg`)."""
    sections = [('net', dict(net_options))]
    for layer in layers:
        options = {}
        if isinstance(layer, Convolutional):
            options = {'filters': layer.filters, 'size': layer.size, 'stride': layer.stride}
            if layer.padding == layer.size // 2:
                options['pad'] = 1
            else:
                options['padding'] = layer.padding
            options['activation'] = layer.activation
            if layer.batch_normalize:
                options['batch_normalize'] = 1
        elif isinstance(layer, MaxPool):
            options = {'size': layer.size, 'stride': layer.stride}
            if layer.padding is not None:
                options['padding'] = layer.padding
        elif isinstance(layer, Local):
            options = {'filters': layer.filters, 'size': layer.size, 'stride': layer.stride,
                       'pad': layer.padding, 'activation': layer.activation}
        elif isinstance(layer, Connected):
            options = {'output': layer.outputs, 'activation': layer.activation}
            if layer.batch_normalize:
                options['batch_normalize'] = 1
        elif isinstance(layer, Dropout):
            options = {'probability': layer.probability}
        elif isinstance(layer, Softmax):
            options = {'groups': layer.groups}
        elif isinstance(layer, Crop):
            options = {'crop_height': layer.height, 'crop_width': layer.width,
                       'noadjust': int(not layer.adjust)}
        elif isinstance(layer, Detection):
            options = {key: int(value) if isinstance(value, bool) else value
                       for key, value in dataclasses.asdict(layer).items()}
        sections.append((_CFG_NAMES[type(layer)], options))
    return sections


def layers_to_json(layers):
    """The table as JSON-ready dicts (``{"type": "Convolutional", ...}``), for a checkpoint's JSON."""
    return [dict(type=type(layer).__name__, **dataclasses.asdict(layer)) for layer in layers]


def layers_from_json(records):
    """The inverse of `layers_to_json`."""
    types = {cls.__name__: cls for cls in _CFG_NAMES}
    layers = []
    for record in records:
        record = dict(record)
        kind = record.pop('type', None)
        if kind not in types:
            raise ValueError('not a darknet layer record: %r' % (kind,))
        layers.append(types[kind](**record))
    return tuple(layers)
