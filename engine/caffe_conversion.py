"""Converting a published Caffe model into a TF checkpoint of this repository's net, with its JSON.

``convert`` reads the ``.caffemodel`` without Caffe (``converters.caffe_proto``: the current ``layer``
or the legacy V1 ``layers`` format), maps its layers onto the net's variables
(``converters.caffe_to_tf``), and writes ``<output>.index`` / ``<output>.data-*`` atomically and
``<output>.json``: the source file and its SHA-256, the model name, the class names and the input
convention (``caffe_bgr``: the Caffe models take BGR images minus the mean 104/117/123).
"""
import tensorflow.compat.v1 as tf
import tf_slim as slim

from tf1zoo.converters import caffe_proto, caffe_to_tf
from tf1zoo.datasets import pascalvoc
from tf1zoo.engine import checkpoint_info
from tf1zoo.nets import nets_factory, vgg
from tf1zoo.ops import image_conventions

VGG_BASE = 'vgg_16_reduced'
CONVERTIBLE_MODELS = (VGG_BASE,) + tuple(sorted(nets_factory.MODELS))


def _build_net(model_name, num_classes):
    """Builds ``model_name``'s variables (full width, NHWC) in the default graph."""
    if model_name == VGG_BASE:
        with slim.arg_scope(vgg.vgg_arg_scope()):
            vgg.vgg_16_base(tf.placeholder(tf.float32, [1, 224, 224, 3]))
        return
    spec = nets_factory.get_model_spec(model_name)
    images = tf.placeholder(tf.float32, [1, spec.image_size, spec.image_size, 3])
    spec.build(num_classes).predict(images, is_training=False)


def convert(model_name, caffemodel, output, class_names=pascalvoc.VOC_CLASSES):
    """Converts ``caffemodel`` into a checkpoint at ``output``; returns the JSON written beside it.

    Raises:
      caffe_proto.CaffeFormatError: the file is no readable Caffe net.
      caffe_to_tf.ConversionError: it does not fit the net (every misfit listed).
    """
    layers = caffe_proto.read_caffemodel_layers(caffemodel)
    is_detector = model_name != VGG_BASE
    with tf.Graph().as_default():
        _build_net(model_name, len(class_names) + 1)
        variables = slim.get_model_variables()
        shapes = {var.op.name: var.shape.as_list() for var in variables}
        try:
            values, unused = caffe_to_tf.convert(layers, shapes)
        except caffe_to_tf.ConversionError as error:
            raise caffe_to_tf.ConversionError('%s as %s: %s' % (caffemodel, model_name, error)) from None
        with tf.Session() as session:
            for var in variables:
                var.load(values[var.op.name], session)
            checkpoint_info.save_checkpoint_atomically(session, tf.train.Saver(variables), output)
    info = {'model_name': model_name, 'source_caffemodel': caffemodel,
            'source_sha256': checkpoint_info.file_sha256(caffemodel),
            'input_convention': image_conventions.CAFFE_BGR, 'depth_multiplier': 1.0,
            'num_variables': len(values), 'unused_caffe_layers': unused}
    if is_detector:
        info.update(class_names=list(class_names), num_classes=len(class_names) + 1)
    checkpoint_info.write_json_atomically(output + '.json', info)
    return info
