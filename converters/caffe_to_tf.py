"""Caffe parameter blobs to the TF variables of this repository's nets (pure NumPy).

The mapping is by name. Every converted net keeps each Caffe layer's name as the variable scope of its
parameters (``vgg_16/conv4/conv4_3/weights`` <- ``conv4_3``, ``ssd_300_vgg/fc7_mbox_conf/biases`` <-
``fc7_mbox_conf``, ``ssd_300_vgg/conv4_3_norm/scale`` <- ``conv4_3_norm``), so a variable's Caffe layer
is the scope just above it and its blob index follows from the variable's own name (weights and scale:
blob 0; biases: blob 1).

Layouts (Caffe -> TF, NHWC):

* Convolution weights ``[out, in, kh, kw]`` -> ``[kh, kw, in, out]``.
* Deconvolution weights ``[in, out, kh, kw]`` -> ``[kh, kw, out, in]`` (``conv2d_transpose``'s filter),
  the same axis permutation.
* InnerProduct weights ``[out, in]`` -> ``[in, out]``.
* Normalize scale ``[channels]`` unchanged.
* Box-regression heads (``*_mbox_loc``): Caffe's CENTER_SIZE code orders each prior's four outputs
  ``(x, y, w, h)``; this repository's box coder orders them ``(y, x, h, w)`` (the ``[ymin, xmin, ymax,
  xmax]`` convention), so the output channels are permuted within every prior's group of four.

The classification heads keep Caffe's order (background first), as do the priors (Caffe's PriorBox
order, see ``ops/anchor_generator.py``). Input channels stay BGR: a converted checkpoint records the
``caffe_bgr`` input convention instead of permuting conv1_1 (see ``preprocessing/image_conventions.py``).
"""
import numpy as np

_BLOB_INDEX = {'weights': 0, 'biases': 1, 'scale': 0}
_CAFFE_LOC_TO_TF = (1, 0, 3, 2)  # TF (y, x, h, w) takes Caffe's (x, y, w, h) channels 1, 0, 3, 2
_LOC_HEAD_SUFFIX = '_mbox_loc'


class ConversionError(ValueError):
    """A caffemodel that does not fit the net; the message lists every layer that does not fit."""


def caffe_source(variable_name):
    """``(Caffe layer name, blob index)`` of a TF variable, e.g. ``('conv4_3', 0)``.

    Raises:
      ConversionError: the variable is not a weights, biases or scale variable.
    """
    parts = variable_name.split('/')
    if len(parts) < 2 or parts[-1] not in _BLOB_INDEX:
        raise ConversionError('variable %s has no Caffe counterpart' % variable_name)
    return parts[-2], _BLOB_INDEX[parts[-1]]


def _loc_channel_permutation(num_channels):
    if num_channels % 4:
        raise ConversionError('a box head has %d outputs, not a multiple of 4' % num_channels)
    return np.concatenate([4 * prior + np.asarray(_CAFFE_LOC_TO_TF)
                           for prior in range(num_channels // 4)])


def _caffe_ndim(layer_type, blob_index):
    """Axes of a blob in Caffe's own layout: 4 for (de)convolution weights, 2 for InnerProduct weights,
    1 for biases and Normalize scales."""
    if blob_index == 0 and layer_type in ('Convolution', 'Deconvolution'):
        return 4
    if blob_index == 0 and layer_type == 'InnerProduct':
        return 2
    return 1


def _drop_leading_ones(blob, ndim):
    """Legacy (V1-era) blobs are 4-D with leading 1s (a bias is 1 x 1 x 1 x n)."""
    shape = list(blob.shape)
    while len(shape) > ndim and shape[0] == 1:
        shape.pop(0)
    return blob.reshape(shape)


def to_tf_layout(layer_type, layer_name, blob_index, blob):
    """One Caffe blob in the layout of its TF variable (see the module docstring)."""
    blob = _drop_leading_ones(blob, _caffe_ndim(layer_type, blob_index))
    if blob_index == 0 and layer_type in ('Convolution', 'Deconvolution'):
        array = np.transpose(blob, (2, 3, 1, 0))
    elif blob_index == 0 and layer_type == 'InnerProduct':
        array = np.transpose(blob)
    else:
        array = blob
    if layer_name.endswith(_LOC_HEAD_SUFFIX):
        # Output channels: the last axis of Convolution weights, the only axis of the biases.
        array = np.take(array, _loc_channel_permutation(array.shape[-1]), axis=-1)
    return np.ascontiguousarray(array, dtype=np.float32)


def convert(caffe_layers, variable_shapes):
    """Maps the blobs of ``caffe_layers`` onto TF variables.

    Args:
      caffe_layers: `caffe_proto.CaffeLayer`s of a caffemodel.
      variable_shapes: ``{TF variable name: shape}`` of the net to fill (every one must be filled).

    Returns:
      (``{variable name: float32 array}``, names of Caffe layers with blobs that no variable uses).

    Raises:
      ConversionError: listing every variable whose Caffe layer or blob is missing and every blob whose
        shape does not fit (Caffe's shape, the converted shape and the variable's shape).
    """
    by_name = {layer.name: layer for layer in caffe_layers if layer.blobs}
    values, problems, used = {}, [], set()
    for name, shape in sorted(variable_shapes.items()):
        layer_name, blob_index = caffe_source(name)
        layer = by_name.get(layer_name)
        if layer is None:
            problems.append('%s: no Caffe layer %r with parameters' % (name, layer_name))
            continue
        if blob_index >= len(layer.blobs):
            problems.append('%s: Caffe layer %r has %d blobs, no blob %d'
                            % (name, layer_name, len(layer.blobs), blob_index))
            continue
        used.add(layer_name)
        blob = layer.blobs[blob_index]
        array = _converted_or_none(layer, blob_index, blob, tuple(shape))
        if array is None:
            problems.append('%s: Caffe %s %r blob %d has shape %s, the variable needs %s'
                            % (name, layer.type, layer_name, blob_index, list(blob.shape), list(shape)))
            continue
        values[name] = array
    if problems:
        raise ConversionError('the caffemodel does not fit the net (%d of %d variables):\n  %s'
                              % (len(problems), len(variable_shapes), '\n  '.join(problems)))
    unused = sorted(set(by_name) - used)
    return values, unused


def _converted_or_none(layer, blob_index, blob, shape):
    try:
        array = to_tf_layout(layer.type, layer.name, blob_index, blob)
    except ConversionError:
        return None
    return array if array.shape == shape else None
