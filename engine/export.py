"""Exporting a trained or converted detector for serving: a SavedModel and a frozen GraphDef.

The exported graph is self-contained: it takes ``image_tensor``, uint8 ``[batch, height, width, 3]``
RGB images of any size, runs the model's evaluation preprocessing on each image (the same ops
`inference.image_files_dataset` runs for eval_voc.py and detect.py), the network and its
post-processing, and gives the TF Object Detection API's outputs:

- ``detection_boxes``: float32 ``[batch, max_detections, 4]``, ``[ymin, xmin, ymax, xmax]`` normalised
  to the input image and clipped to it;
- ``detection_scores``: float32 ``[batch, max_detections]``, highest first;
- ``detection_classes``: float32 ``[batch, max_detections]``, 1-based class ids (0 pads);
- ``num_detections``: float32 ``[batch]``, how many rows of each image are real.

A process with TensorFlow alone loads either form: ``tf.saved_model.load(dir).signatures
['serving_default'](inputs=...)`` (the OD API's input key), or the frozen graph's ``image_tensor:0`` and
``detection_boxes:0`` (...) through ``tf.compat.v1``. Models that take one image per step (R-FCN:
images of any aspect ratio) take a batch of one.
"""
import json
import os
import shutil
import tempfile

import tensorflow.compat.v1 as tf

from tf1zoo.engine import inference
from tf1zoo.nets import nets_factory
from tf1zoo.ops import standard_fields

fields = standard_fields.InputDataFields
INPUT_NAME = 'image_tensor'
SIGNATURE_INPUT = 'inputs'  # the TF Object Detection API's key for it in ``serving_default``
OUTPUT_NAMES = ('detection_boxes', 'detection_scores', 'detection_classes', 'num_detections')
SAVED_MODEL_DIR = 'saved_model'
FROZEN_GRAPH_FILE = 'frozen_inference_graph.pb'
SETTINGS_FILE = 'model_config.json'


def _preprocess_images(images, settings):
    """uint8 ``[batch, h, w, 3]`` -> the network's float32 input batch, image by image."""
    preprocess = inference.eval_preprocess_fn(settings)

    def one_image(image):
        image.set_shape([None, None, 3])
        tensor_dict = {fields.image: image, fields.groundtruth_boxes: tf.zeros([0, 4])}
        return preprocess(tensor_dict)[fields.image]

    if nets_factory.get_model_spec(settings['model_name']).images_per_batch == 1:
        # Its preprocessing keeps the aspect ratio: images of one batch would differ in size.
        check = tf.debugging.assert_equal(tf.shape(images)[0], 1, message='this model takes a '
                                          'batch of one image')
        with tf.control_dependencies([check]):
            return one_image(images[0])[tf.newaxis]
    return tf.map_fn(one_image, images, fn_output_signature=tf.float32)


def build_serving_graph(settings, options: inference.DetectionOptions, data_format='NHWC'):
    """In the default graph: the ``image_tensor`` placeholder, the model, and its outputs named as
    the TF Object Detection API names them. Returns (input placeholder, {name: output tensor})."""
    images = tf.placeholder(tf.uint8, [None, None, None, 3], name=INPUT_NAME)
    detector = nets_factory.get_model_spec(settings['model_name']).build(
        settings['num_classes'], depth_multiplier=settings['depth_multiplier'],
        data_format=data_format, batch_norm=settings['batch_norm'],
        winograd_tile_size=inference.winograd_tile_size(options.winograd, settings['model_name']),
        **settings['model_options'])
    predictions, _ = detector.predict(_preprocess_images(images, settings), is_training=False)
    postprocess = {key: value for key, value in (('score_threshold', options.score_threshold),
                                                 ('iou_threshold', options.iou_threshold),
                                                 ('keep_top_k', options.keep_top_k))
                   if value is not None}
    detections = dict(detector.postprocess(predictions, **postprocess))
    # Clipped to the image, as detect.py, eval_voc.py and eval_coco.py clip them.
    detections['detection_boxes'] = tf.clip_by_value(detections['detection_boxes'], 0.0, 1.0)
    outputs = {name: tf.identity(tf.cast(detections[name], tf.float32), name=name)
               for name in OUTPUT_NAMES}
    return images, outputs


def export_detector(checkpoint_prefix, settings, output_dir, options: inference.DetectionOptions):
    """Writes ``output_dir``/saved_model/ (signature ``serving_default``),
    ``output_dir``/frozen_inference_graph.pb and ``output_dir``/model_config.json (the settings, class
    names included). Everything is written under a temporary name beside ``output_dir`` and renamed
    into place last: an interrupted export leaves nothing half-written.

    Raises:
      ValueError: ``output_dir`` exists and is not empty (an earlier export is never overwritten).
    """
    if os.path.isdir(output_dir) and os.listdir(output_dir):
        raise ValueError('%s exists and is not empty: export to a new --output_dir' % output_dir)
    parent = os.path.dirname(os.path.abspath(output_dir))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix='.%s.export-' % os.path.basename(output_dir), dir=parent)
    try:
        _write_export(checkpoint_prefix, settings, staging, options)
        if os.path.isdir(output_dir):
            os.rmdir(output_dir)  # empty, checked above
        os.rename(staging, output_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return output_dir


def _write_export(checkpoint_prefix, settings, directory, options):
    with tf.Graph().as_default() as graph:
        images, outputs = build_serving_graph(settings, options)
        saver = tf.train.Saver(inference.variables_to_restore(checkpoint_prefix,
                                                              options.use_moving_averages))
        with tf.Session(graph=graph) as session:
            saver.restore(session, checkpoint_prefix)
            session.run(tf.local_variables_initializer())
            builder = tf.saved_model.Builder(os.path.join(directory, SAVED_MODEL_DIR))
            signature = tf.saved_model.predict_signature_def(inputs={SIGNATURE_INPUT: images},
                                                             outputs=outputs)
            builder.add_meta_graph_and_variables(
                session, [tf.saved_model.SERVING],
                signature_def_map={tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY: signature},
                main_op=tf.local_variables_initializer(), strip_default_attrs=True)
            builder.save()
            frozen = tf.graph_util.convert_variables_to_constants(
                session, graph.as_graph_def(), list(OUTPUT_NAMES))
    with open(os.path.join(directory, FROZEN_GRAPH_FILE), 'wb') as stream:
        stream.write(frozen.SerializeToString())
    exported = dict(settings, input=INPUT_NAME, outputs=list(OUTPUT_NAMES),
                    checkpoint=os.path.abspath(checkpoint_prefix),
                    postprocess={'score_threshold': options.score_threshold,
                                 'iou_threshold': options.iou_threshold,
                                 'keep_top_k': options.keep_top_k},
                    winograd=options.winograd)
    with open(os.path.join(directory, SETTINGS_FILE), 'w') as stream:
        json.dump(exported, stream, indent=2)
