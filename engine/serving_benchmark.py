"""The exported SavedModel's latency beside detect.py's graph, in one run (benchmark_serving.py).

`measure` writes a random-weight checkpoint of the detector (full width unless thinned) with its
JSON, exports it (`export.export_detector`) and times, per batch size, one batch of uint8 images
through:

* ``detect_py``: the graph `inference.iterate_detections` builds for eval_voc.py and detect.py,
  its tf.data pipeline preprocessing images held in memory (the files' decoding left out, since the
  SavedModel is given decoded images);
* ``saved_model``: the export loaded with ``tf.compat.v1.saved_model.load`` into a session, as TF
  Serving runs it, fed the same images.

Both use the same Winograd choice and post-processing. Rounds alternate the two; a round's time is
the median of ``num_iters`` runs after ``warmup_iters``; `summarise` gives each round's ratio.
"""
import dataclasses
import os
import statistics
import tempfile
from typing import Sequence

import numpy as np
import tensorflow.compat.v1 as tf

from tf1zoo.datasets import pascalvoc
from tf1zoo.engine import benchmarking, checkpoint_info, export, inference
from tf1zoo.nets import nets_factory
from tf1zoo.ops import standard_fields

fields = standard_fields.InputDataFields
SYSTEMS = ('detect_py', 'saved_model')


@dataclasses.dataclass(frozen=True)
class ServingSettings:
    model_name: str = 'ssd_vgg_300'
    depth_multiplier: float = 1.0
    batch_sizes: Sequence[int] = (1, 8)
    image_height: int = 375  # a typical VOC photo
    image_width: int = 500
    winograd: str = 'auto'
    warmup_iters: int = 2
    num_iters: int = 5
    rounds: int = 3


def write_random_checkpoint(settings: ServingSettings, folder):
    """A checkpoint of the detector with random weights and VOC's classes, and its JSON."""
    model_settings = {
        'model_name': settings.model_name, 'depth_multiplier': settings.depth_multiplier,
        'batch_norm': False, 'num_classes': len(pascalvoc.VOC_CLASSES) + 1,
        'class_names': list(pascalvoc.VOC_CLASSES),
        'input_convention': nets_factory.get_model_spec(settings.model_name).default_convention,
        'model_options': {}}
    with tf.Graph().as_default():
        detector = nets_factory.get_model_spec(settings.model_name).build(
            model_settings['num_classes'], depth_multiplier=settings.depth_multiplier)
        images = tf.zeros([1, 64, 64, 3])
        if nets_factory.get_model_spec(settings.model_name).images_per_batch != 1:
            size = _network_input_size(settings)
            images = tf.zeros([1, size, size, 3])
        detector.predict(images, is_training=False)
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            prefix = tf.train.Saver().save(session, os.path.join(folder, 'model.ckpt'), global_step=0)
    checkpoint_info.write_json_atomically(os.path.join(folder, checkpoint_info.TRAIN_DIR_FILE),
                                          model_settings)
    return prefix, model_settings


def _network_input_size(settings):
    """The square input of fixed-size models, from their evaluation preprocessing."""
    with tf.Graph().as_default():
        preprocess = inference.eval_preprocess_fn({
            'model_name': settings.model_name,
            'input_convention': nets_factory.get_model_spec(settings.model_name).default_convention})
        out = preprocess({fields.image: tf.zeros([10, 10, 3], tf.uint8),
                          fields.groundtruth_boxes: tf.zeros([0, 4])})[fields.image]
        return int(out.shape[0])


def _random_images(settings, batch_size, seed=0):
    shape = [batch_size, settings.image_height, settings.image_width, 3]
    return np.random.RandomState(seed).randint(0, 256, shape).astype(np.uint8)


def detect_py_seconds(prefix, model_settings, settings, batch_size):
    """The median seconds per batch of `inference.iterate_detections` over in-memory images."""
    images = _random_images(settings, batch_size)
    preprocess = inference.eval_preprocess_fn(model_settings)

    def dataset_fn():
        def load(image):
            return preprocess({fields.image: image, fields.groundtruth_boxes: tf.zeros([0, 4]),
                               fields.original_image_shape: tf.shape(image, out_type=tf.int32)})
        dataset = tf.data.Dataset.from_tensor_slices(images).map(load).batch(batch_size)
        return dataset.repeat().prefetch(1)

    detections = inference.iterate_detections(
        dataset_fn, model_settings, prefix, winograd_tile_size=inference.winograd_tile_size(
            settings.winograd))

    def run():
        for _ in range(batch_size):
            next(detections)
    seconds = benchmarking.median_seconds(run, settings.warmup_iters, settings.num_iters)
    detections.close()
    return seconds


def saved_model_seconds(export_dir, settings, batch_size):
    """The median seconds per batch of the exported SavedModel in a TF1 session."""
    images = _random_images(settings, batch_size)
    with tf.Graph().as_default(), tf.Session() as session:
        meta_graph = tf.saved_model.load(session, [tf.saved_model.SERVING],
                                         os.path.join(export_dir, export.SAVED_MODEL_DIR))
        signature = meta_graph.signature_def[tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY]
        feed_name = signature.inputs[export.SIGNATURE_INPUT].name
        fetches = {key: value.name for key, value in signature.outputs.items()}
        return benchmarking.median_seconds(lambda: session.run(fetches, {feed_name: images}),
                                           settings.warmup_iters, settings.num_iters)


def measure(settings: ServingSettings, show_progress=True):
    """{'machine', 'settings', 'rounds': [{system: {batch size: seconds}}]}."""
    with tempfile.TemporaryDirectory() as folder:
        prefix, model_settings = write_random_checkpoint(settings, os.path.join(folder, 'train'))
        export_dir = export.export_detector(prefix, model_settings, os.path.join(folder, 'export'),
                                            inference.DetectionOptions(winograd=settings.winograd))
        rounds = []
        for index in range(settings.rounds):
            timings = {system: {} for system in SYSTEMS}
            for batch_size in settings.batch_sizes:
                timings['detect_py'][batch_size] = detect_py_seconds(prefix, model_settings, settings,
                                                                     batch_size)
                timings['saved_model'][batch_size] = saved_model_seconds(export_dir, settings,
                                                                         batch_size)
            rounds.append(timings)
            if show_progress:
                print('round %d: %s' % (index + 1, _format_round(timings)), flush=True)
    return {'machine': benchmarking.machine_description(), 'settings': dataclasses.asdict(settings),
            'rounds': rounds}


def _format_round(timings):
    return '; '.join('%s %s' % (system, ', '.join('b%d %.1f ms' % (batch, 1e3 * seconds)
                                                   for batch, seconds in by_batch.items()))
                     for system, by_batch in timings.items())


def summarise(result):
    """Lines: per batch size, each system's median ms per image and the ratio detect_py / saved_model
    of every round (> 1: the export is faster)."""
    machine = result['machine']
    lines = ['%s (depth %s) on %dx%d images; %s cores of %s (family %s model %s), oneDNN %s' % (
        result['settings']['model_name'], result['settings']['depth_multiplier'],
        result['settings']['image_height'], result['settings']['image_width'], machine['cpu_count'],
        machine.get('cpu_model_name'), machine.get('cpu_family'), machine.get('cpu_model'),
        machine['onednn_kernels'])]
    for batch_size in result['settings']['batch_sizes']:
        per_system = {system: [timing[system][batch_size] for timing in result['rounds']]
                      for system in SYSTEMS}
        ratios = [d / s for d, s in zip(per_system['detect_py'], per_system['saved_model'])]
        lines.append('batch %d: detect.py graph %.1f ms/image, SavedModel %.1f ms/image; '
                     'detect.py / SavedModel per round: %s'
                     % (batch_size, 1e3 * statistics.median(per_system['detect_py']) / batch_size,
                        1e3 * statistics.median(per_system['saved_model']) / batch_size,
                        ', '.join('%.2f' % ratio for ratio in ratios)))
    return lines
