"""Converting darknet's published YOLO v1 models (a ``.cfg`` and its ``.weights``) into TF checkpoints.

``convert`` builds the cfg's own layer table (`nets.darknet_layers`; yolov1.cfg's ``[local]`` layer and
3 boxes per cell, yolo-small.cfg's extra connected layer, yolov1-tiny.cfg, the 2015 paper cfg with its
``[crop]``) as a `nets.yolo_detector.YoloV1Detector`, reads the weights file in darknet's layer order
(``load_weights_upto``, src/parser.c) and writes ``<output>.index`` / ``.data-*`` atomically, then
``<output>.json``: the source files and their SHA-256, the weights header, the model name, the class
names, the input convention (RGB in [0, 1]) and the layer table (``model_options.layers``), which
evaluation and detection rebuild the net from.

Per layer, in file order, and onto the TF variables:

* ``[convolutional]``: biases ``[n]``; with ``batch_normalize=1`` scales, rolling means and rolling
  variances ``[n]`` each; weights ``[n, c, size, size]`` -> ``[size, size, c, n]``. The biases are
  batch norm's beta then. darknet divides by ``sqrt(variance) + 1e-6`` where TF divides by
  ``sqrt(variance + eps)``: gamma absorbs the difference, so outputs agree to float rounding.
* ``[connected]``: biases ``[outputs]``, weights ``[outputs, inputs]`` (``[inputs, outputs]`` when the
  header says transposed) -> ``[inputs, outputs]``, then the batch-norm triple if any. Inputs are in
  darknet's channel-major order, as the net flattens them.
* ``[local]``: biases ``[n, out_h, out_w]`` -> ``[out_h, out_w, n]``, weights
  ``[out_h * out_w, n, c, size, size]`` -> ``[out_h * out_w, size, size, c, n]``.

A weights file that ends inside a layer, or holds values after the last, does not fit the cfg: the
conversion stops naming the layer (darknet's 0-based index, its scope and its cfg line) and writes
nothing.
"""
import numpy as np
import tensorflow.compat.v1 as tf
import tf_slim as slim

from tf1zoo.converters import darknet
from tf1zoo.datasets import pascalvoc
from tf1zoo.engine import checkpoint_info
from tf1zoo.nets import darknet_layers, yolo_detector, yolo_v1
from tf1zoo.ops import image_conventions

MODEL_NAME = 'yolo_v1'
# A cfg without a [detection] section: an ImageNet classifier (darknet's extraction.cfg, whose first 20
# convolutions are YOLO v1's, sec. 2.2). Its variables take YOLO v1's scope and names, so that it
# initialises train_yolo.py by name (--checkpoint_path, --checkpoint_exclude_scopes).
CLASSIFIER_NAME = 'darknet_classifier'
_IGNORED_SECTIONS = ('net', 'network')


class DarknetConversionError(ValueError):
    """The weights do not fit the cfg; the message names the file and the layer."""


def read_table(cfg_path):
    """(``[net]`` options, layer table, each layer's cfg line) of a cfg file."""
    sections = darknet.read_cfg(cfg_path)
    net_options, layers = darknet_layers.layers_from_cfg(sections, cfg_path)
    lines = tuple(section.line for section in sections
                  if section.name.lower() not in _IGNORED_SECTIONS)
    return net_options, layers, lines


def input_shape(net_options, layers):
    """``[1, height, width, channels]`` of the ``[net]`` section (448 x 448 x 3 by default)."""
    height = int(net_options.get('height', yolo_v1.yolo_v1.default_image_size))
    width = int(net_options.get('width', height))
    return [1, height, width, int(net_options.get('channels', 3))]


def _is_detector(layers):
    """A YOLO table (with a [detection] section), not an ImageNet classifier's."""
    return any(isinstance(layer, darknet_layers.Detection) for layer in layers)


def _build(layers, shape):
    """The net's variables in a new default graph: the detector's for a YOLO table, the bare
    layers under YOLO v1's scope for a classifier's; returns {layer scope: {name: variable}}."""
    if _is_detector(layers):
        detection = darknet_layers.detection_layer(layers)
        detector = yolo_detector.YoloV1Detector(detection.classes + 1, layers=layers)
        detector.predict(tf.placeholder(tf.float32, shape), is_training=False)
    else:
        with slim.arg_scope(yolo_v1.yolo_v1_arg_scope(is_training=False)):
            yolo_v1.yolo_v1_classifier(tf.placeholder(tf.float32, shape), layers, is_training=False)
    by_scope = {}
    for variable in slim.get_model_variables():
        parts = variable.op.name.split('/')
        by_scope.setdefault(parts[1], {})['/'.join(parts[2:])] = variable
    return by_scope


def _darknet_blocks(layer, variables, transposed):
    """[(variable name, darknet shape, to-TF function)] of one layer, in file order."""
    if isinstance(layer, darknet_layers.Convolutional):
        size, _, channels, filters = variables['weights'].shape.as_list()
        bias = 'BatchNorm/beta' if layer.batch_normalize else 'biases'
        blocks = [(bias, [filters], None)]
        if layer.batch_normalize:
            blocks += [('BatchNorm/gamma', [filters], None), ('BatchNorm/moving_mean', [filters], None),
                       ('BatchNorm/moving_variance', [filters], None)]
        return blocks + [('weights', [filters, channels, size, size],
                          lambda value: value.transpose(2, 3, 1, 0))]
    if isinstance(layer, darknet_layers.Connected):
        inputs, outputs = variables['weights'].shape.as_list()
        bias = 'BatchNorm/beta' if layer.batch_normalize else 'biases'
        weights = (('weights', [inputs, outputs], None) if transposed else
                   ('weights', [outputs, inputs], lambda value: value.T))
        blocks = [(bias, [outputs], None), weights]
        if layer.batch_normalize:
            blocks += [('BatchNorm/gamma', [outputs], None), ('BatchNorm/moving_mean', [outputs], None),
                       ('BatchNorm/moving_variance', [outputs], None)]
        return blocks
    out_h, out_w, filters = variables['biases'].shape.as_list()
    locations, size, _, channels, _ = variables['weights'].shape.as_list()
    return [('biases', [filters, out_h, out_w], lambda value: value.transpose(1, 2, 0)),
            ('weights', [locations, filters, channels, size, size],
             lambda value: value.transpose(0, 3, 4, 2, 1))]


def _fold_darknet_normalisation(values):
    """gamma * sqrt(var + eps) / (sqrt(var) + 1e-6): darknet's normalisation in TF's batch norm."""
    variance = values['BatchNorm/moving_variance']
    values['BatchNorm/gamma'] = (values['BatchNorm/gamma'] * np.sqrt(
        variance + darknet_layers.BATCH_NORM_EPSILON) / (np.sqrt(variance)
                                                         + darknet_layers.DARKNET_NORMALIZE_EPSILON)
    ).astype(np.float32)


def weights_to_variables(values, layers, lines, by_scope, header, weights_path, cfg_path):
    """{variable: value} from the file's floats; `DarknetConversionError` where they do not fit."""
    assignments, cursor = {}, 0
    weighted = [(index, name, layer) for index, (layer, name) in
                enumerate(zip(layers, darknet_layers.layer_scopes(layers)))
                if isinstance(layer, darknet_layers.WEIGHTED_LAYERS)]
    for index, scope, layer in weighted:
        variables = by_scope[scope]
        layer_values = {}
        for name, shape, to_tf in _darknet_blocks(layer, variables, header.transposed_connected):
            count = int(np.prod(shape))
            if cursor + count > len(values):
                raise DarknetConversionError(
                    '%s ends inside layer %d (%s, [%s] at %s:%d): it needs %d more values for %s, '
                    '%d are left; the weights do not fit this cfg'
                    % (weights_path, index, scope, type(layer).__name__.lower(), cfg_path,
                       lines[index], count, name, len(values) - cursor))
            value = values[cursor:cursor + count].reshape(shape)
            layer_values[name] = to_tf(value) if to_tf else value
            cursor += count
        if 'BatchNorm/gamma' in layer_values:
            _fold_darknet_normalisation(layer_values)
        for name, value in layer_values.items():
            assignments[variables[name]] = value
    if cursor != len(values):
        raise DarknetConversionError(
            '%s holds %d values after the last layer of %s (%d read): the weights do not fit this '
            'cfg' % (weights_path, len(values) - cursor, cfg_path, cursor))
    return assignments


def convert(cfg_path, weights_path, output, class_names=pascalvoc.VOC_CLASSES):
    """Converts ``weights_path`` for ``cfg_path`` into a checkpoint at ``output``; returns its JSON.

    Raises:
      converters.darknet.DarknetFormatError: a file does not read.
      ValueError: the cfg holds a layer this repository does not build, or the class names do
        not number the detection layer's classes (a cfg without one is an ImageNet classifier,
        converted under YOLO v1's variable names; its JSON names no classes).
      DarknetConversionError: the weights do not fit the cfg (nothing is written then).
    """
    net_options, layers, lines = read_table(cfg_path)
    is_detector = _is_detector(layers)
    if is_detector:
        detection = darknet_layers.detection_layer(layers)
        if len(class_names) != detection.classes:
            raise ValueError('%s detects %d classes, but %d class names were given'
                             % (cfg_path, detection.classes, len(class_names)))
    header, values = darknet.read_weights(weights_path)
    with tf.Graph().as_default():
        by_scope = _build(layers, input_shape(net_options, layers))
        assignments = weights_to_variables(values, layers, lines, by_scope, header, weights_path,
                                           cfg_path)
        with tf.Session() as session:
            for variable, value in assignments.items():
                variable.load(value, session)
            checkpoint_info.save_checkpoint_atomically(
                session, tf.train.Saver(list(assignments)), output)
    info = {'model_name': MODEL_NAME if is_detector else CLASSIFIER_NAME, 'source_cfg': cfg_path,
            'source_cfg_sha256': checkpoint_info.file_sha256(cfg_path),
            'source_weights': weights_path, 'source_sha256': checkpoint_info.file_sha256(weights_path),
            'weights_header': {'major': header.major, 'minor': header.minor,
                               'revision': header.revision, 'seen': header.seen},
            'input_convention': image_conventions.DARKNET_RGB, 'depth_multiplier': 1.0,
            'num_variables': len(assignments)}
    if is_detector:
        info.update(class_names=list(class_names), num_classes=len(class_names) + 1,
                    batch_norm=False, model_options={'layers': darknet_layers.layers_to_json(layers)})
    checkpoint_info.write_json_atomically(output + '.json', info)
    return info


def _fan_in(layer, darknet_shape, transposed):
    """Inputs per output of a layer's darknet-ordered weights."""
    if isinstance(layer, darknet_layers.Connected):
        return darknet_shape[0] if transposed else darknet_shape[1]
    if isinstance(layer, darknet_layers.Local):
        return int(np.prod(darknet_shape[2:]))
    return int(np.prod(darknet_shape[1:]))


def random_weights(cfg_path, weights_path, seed=0, header=darknet.WeightsHeader()):
    """Writes a random-weight ``.weights`` file that fits ``cfg_path`` (for tests and benchmarks):
    weights and biases of darknet's initial scale, batch-norm statistics around 1 and 0."""
    net_options, layers, _ = read_table(cfg_path)
    rng = np.random.default_rng(seed)
    arrays = []
    with tf.Graph().as_default():
        by_scope = _build(layers, input_shape(net_options, layers))
    for scope, layer in darknet_layers.weight_layers(layers):
        for name, shape, _ in _darknet_blocks(layer, by_scope[scope], header.transposed_connected):
            if name == 'weights':
                scale = np.sqrt(2.0 / _fan_in(layer, shape, header.transposed_connected))
                arrays.append(rng.uniform(-scale, scale, shape).astype(np.float32))
            elif name.endswith('moving_variance'):
                arrays.append(rng.uniform(0.5, 1.5, shape).astype(np.float32))
            elif name.endswith('gamma'):
                arrays.append(rng.uniform(0.8, 1.2, shape).astype(np.float32))
            else:
                arrays.append(rng.normal(0.0, 0.1, shape).astype(np.float32))
    darknet.write_weights(weights_path, arrays, header)
    return weights_path


def paper_cfg_text(num_classes=yolo_v1.NUM_CLASSES):
    """The paper's network (`yolo_v1.yolo_v1_layers`) as a darknet cfg: 24 convolutions, connected
    4096, dropout 0.5, connected 1470, the detection layer; ``[net]`` with the paper's training
    settings (batch 64, momentum 0.9, decay 5e-4, saturation and exposure 1.5)."""
    net_options = {'batch': 64, 'subdivisions': 1, 'height': 448, 'width': 448, 'channels': 3,
                   'momentum': 0.9, 'decay': 0.0005, 'saturation': 1.5, 'exposure': 1.5,
                   'learning_rate': 0.001}
    return darknet.format_cfg(darknet_layers.cfg_sections(yolo_v1.yolo_v1_layers(num_classes),
                                                          net_options))
