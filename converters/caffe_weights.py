"""The parameter blobs a Caffe deploy net needs, and random ones in Caffe's layouts.

`parameter_shapes` infers every learnable layer's blob shapes from a deploy prototxt alone (channels
tracked blob by blob from the input), as Caffe's ``LayerSetUp`` would allocate them:

* Convolution: weights ``[num_output, in / group, kh, kw]``, bias ``[num_output]``;
* Deconvolution: weights ``[in, num_output / group, kh, kw]``, bias ``[num_output]``;
* Normalize (SSD): scale ``[channels]``, or ``[1]`` when ``channel_shared``;
* InnerProduct: weights ``[num_output, in]`` (only where the input is a vector), bias ``[num_output]``.

`random_caffemodel` fills those shapes with random numbers and gives a NetParameter that Caffe, OpenCV
or this repository's converter can load: the conversion tests and the speed benchmark use it in place
of the published weights, which cannot be downloaded here.
"""
import numpy as np

from tf1zoo.converters import caffe_proto

# Layers that pass their input's channel count through unchanged.
_CHANNEL_PRESERVING = ('ReLU', 'Pooling', 'Dropout', 'Normalize', 'Eltwise', 'Softmax', 'Split',
                       'BatchNorm', 'Scale', 'LRN', 'Sigmoid', 'TanH', 'Power', 'AbsVal')


def _input_channels(net):
    if net.input_shape:
        return {net.input[0]: int(net.input_shape[0].dim[1])}
    if len(net.input_dim) >= 4:
        return {net.input[0]: int(net.input_dim[1])}
    raise caffe_proto.CaffeFormatError('the net declares no input shape (input_shape or input_dim)')


def _kernel(conv_param):
    if conv_param.kernel_h:
        return int(conv_param.kernel_h), int(conv_param.kernel_w)
    sizes = list(conv_param.kernel_size)
    return (int(sizes[0]), int(sizes[-1]))


def _layer_shapes(layer, in_channels):
    """(parameter blob shapes, output channels) of one layer with ``in_channels`` input channels."""
    params = layer.params
    if layer.type in ('Convolution', 'Deconvolution'):
        conv = params.convolution_param
        out, group = int(conv.num_output), int(conv.group)
        kernel_h, kernel_w = _kernel(conv)
        if layer.type == 'Convolution':
            weights = (out, in_channels // group, kernel_h, kernel_w)
        else:
            weights = (in_channels, out // group, kernel_h, kernel_w)
        return ([weights, (out,)] if conv.bias_term else [weights]), out
    if layer.type == 'Normalize':
        return [(1,) if params.norm_param.channel_shared else (in_channels,)], in_channels
    if layer.type == 'InnerProduct':
        out = int(params.inner_product_param.num_output)
        weights = (out, in_channels)
        return ([weights, (out,)] if params.inner_product_param.bias_term else [weights]), out
    if layer.type in _CHANNEL_PRESERVING:
        return [], in_channels
    return [], None  # reshapes, priors, concatenations: not inputs of learnable layers here


def parameter_shapes(net):
    """``{layer name: [blob shape, ...]}`` of the learnable layers of a deploy NetParameter, in order.

    Raises:
      CaffeFormatError: a learnable layer whose input channels cannot be followed from the input.
    """
    layers = caffe_proto.net_layers(net)
    channels = _input_channels(net)
    shapes = {}
    for layer in layers:
        in_channels = channels.get(layer.bottoms[0]) if layer.bottoms else None
        if in_channels is None and layer.type in ('Convolution', 'Deconvolution', 'Normalize',
                                                  'InnerProduct'):
            raise caffe_proto.CaffeFormatError('cannot infer the input channels of layer %s (%s)'
                                               % (layer.name, layer.type))
        blob_shapes, out_channels = _layer_shapes(layer, in_channels)
        if blob_shapes:
            shapes[layer.name] = blob_shapes
        for top in layer.tops:
            if out_channels is None:
                channels.pop(top, None)
            else:
                channels[top] = out_channels
    return shapes


def random_caffemodel(deploy_net, seed=0, input_std=60.0, normalize_scale=(5.0, 25.0)):
    """A NetParameter of ``deploy_net``'s layers carrying random parameter blobs.

    Weights are Gaussian with He's standard deviation ``sqrt(2 / fan_in)`` (so that the signal neither
    vanishes nor explodes through a deep ReLU net and every head gives distinct outputs), the first
    layer's divided by ``input_std`` (mean-subtracted 0..255 pixels have a standard deviation of about
    60) so that features and head outputs stay near unit scale; biases uniform in [-0.1, 0.1], Normalize
    scales uniform in ``normalize_scale``.
    """
    rng = np.random.default_rng(seed)
    model = caffe_proto.NetParameter(name=deploy_net.name)
    use_v1 = bool(deploy_net.layers) and not deploy_net.layer
    for layer_index, (name, shapes) in enumerate(parameter_shapes(deploy_net).items()):
        gain = 1.0 / input_std if layer_index == 0 else 1.0
        layer = model.layers.add(name=name) if use_v1 else model.layer.add(name=name)
        for index, shape in enumerate(shapes):
            if len(shapes) == 1 and len(shape) == 1:  # the Normalize scale
                values = rng.uniform(*normalize_scale, size=shape)
            elif index == 0:
                fan_in = int(np.prod(shape[1:]))
                values = rng.normal(0.0, gain * np.sqrt(2.0 / fan_in), size=shape)
            else:
                values = rng.uniform(-0.1, 0.1, size=shape)
            layer.blobs.append(caffe_proto.array_to_blob(values))
    _copy_layer_types(deploy_net, model)
    return model


def _copy_layer_types(deploy_net, model):
    """Gives each weight layer the deploy layer's type and connections (Caffe matches by name only,
    but a self-describing caffemodel is easier to check)."""
    source = {layer.name: layer for layer in list(deploy_net.layer) + list(deploy_net.layers)}
    for layer in list(model.layer) + list(model.layers):
        original = source[layer.name]
        layer.type = original.type
        layer.bottom.extend(original.bottom)
        layer.top.extend(original.top)
