"""Running a trained or converted detector over images: under eval_voc.py, detect.py and the demo.

`model_settings` reads what the checkpoint's JSON records (model, classes, input convention,
depth multiplier; see `checkpoint_info`), `image_files_dataset` and `tfrecord_dataset` feed
evaluation-preprocessed batches, and `iterate_detections` restores the checkpoint and yields each
image's detections as NumPy arrays, boxes normalised ``[ymin, xmin, ymax, xmax]``.
"""
import dataclasses
import os
from typing import Optional

import numpy as np
import tensorflow.compat.v1 as tf
import tqdm

from tf1zoo.datasets import input_pipeline
from tf1zoo.engine import checkpoint_info
from tf1zoo.nets import nets_factory
from tf1zoo.ops import compat, standard_fields, winograd
from tf1zoo.preprocessing import preprocessing_factory

fields = standard_fields.InputDataFields
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp')
WINOGRAD_CHOICES = ('auto', 'off', 'adaptive', '2', '4', '6')
_SETTING_KEYS = ('model_name', 'depth_multiplier', 'batch_norm', 'num_classes', 'class_names',
                 'input_convention', 'model_options')
# Recorded by training, absent from converted weights' JSON (then the model's default applies).
_OPTIONAL_SETTING_KEYS = ('preprocessing_name',)


def model_settings(checkpoint_path, **overrides):
    """The model settings of a checkpoint: its JSON, then ``overrides`` that are not None.

    Returns:
      (checkpoint prefix, dict with model_name, depth_multiplier, batch_norm, num_classes,
      class_names, input_convention, model_options, and the training's preprocessing_name where
      the JSON records one).

    Raises:
      ValueError: no checkpoint there, or a setting neither recorded nor given.
    """
    prefix = checkpoint_info.resolve_checkpoint(checkpoint_path)
    recorded = checkpoint_info.with_model_defaults(checkpoint_info.read_checkpoint_info(prefix))
    settings = {key: value for key, value in recorded.items()
                if key in _SETTING_KEYS or key in _OPTIONAL_SETTING_KEYS}
    settings.update({key: value for key, value in overrides.items() if value is not None})
    if settings.get('model_name') != recorded.get('model_name'):
        settings.pop('preprocessing_name', None)  # another model's: its default applies
    if 'model_name' in settings and 'input_convention' not in settings:
        settings['input_convention'] = nets_factory.get_model_spec(
            settings['model_name']).default_convention
    if 'class_names' in settings and 'num_classes' not in settings:
        settings['num_classes'] = len(settings['class_names']) + 1
    missing = [key for key in _SETTING_KEYS if key not in settings]
    if missing:
        raise ValueError('%s records no %s (no %s): pass them as flags'
                         % (prefix, ', '.join(missing),
                            ' or '.join(checkpoint_info.info_path_candidates(prefix))))
    if len(settings['class_names']) + 1 != settings['num_classes']:
        raise ValueError('%d class names do not fit num_classes=%d (background included)'
                         % (len(settings['class_names']), settings['num_classes']))
    return prefix, settings


def define_model_flags(define):
    """The flags eval_voc.py and detect.py share: settings the checkpoint's JSON may lack, the
    post-processing overrides and the moving-average switch (``define``: a `cli.Definer`)."""
    define.string('model_name', None, 'Model of the checkpoint (default: its model_config).')
    define.float('depth_multiplier', None, 'Depth multiplier (default: the checkpoint\'s).')
    define.string('input_convention', None, 'Input convention (default: the checkpoint\'s).')
    define.float('select_threshold', None, 'Score threshold (default: the model\'s; SSD300: 0.01).')
    define.float('nms_threshold', None, 'NMS IoU threshold (default: the model\'s; SSD300: 0.45).')
    define.integer('keep_top_k', None, 'Detections kept per image (default: the model\'s; SSD300: 200).')
    define.bool('moving_averages', True, 'Use the weights\' moving averages where the checkpoint '
                'holds them (train_ssd.py --moving_average_decay).')
    define.enum('winograd', 'auto', list(WINOGRAD_CHOICES),
                'Winograd F(m x m, 3 x 3) for the wide 3x3 convolutions (ops/winograd.py; same outputs '
                'up to rounding): auto = adaptive where TF runs oneDNN\'s CPU kernels (faster there, '
                'slower on Eigen\'s), adaptive = F(6x6) or F(4x4) per layer, whichever multiplies less; '
                'off = TF\'s direct ones.')


def model_settings_from_flags(values, **overrides):
    """`model_settings` of ``values.checkpoint_path``, overridden by `define_model_flags`' flags."""
    return model_settings(values.checkpoint_path, model_name=values.model_name,
                          depth_multiplier=values.depth_multiplier,
                          input_convention=values.input_convention, **overrides)


@dataclasses.dataclass(frozen=True)
class DetectionOptions:
    """How `iterate_detections` runs a checkpoint: moving averages, Winograd (a `WINOGRAD_CHOICES`
    entry) and post-processing overrides (None: the model's deploy defaults)."""

    use_moving_averages: bool = True
    winograd: str = 'auto'
    score_threshold: Optional[float] = None
    iou_threshold: Optional[float] = None
    keep_top_k: Optional[int] = None

    def keywords(self, model_name=None):
        """`iterate_detections`' keyword arguments (for ``model_name``: see `winograd_tile_size`)."""
        return dict(use_moving_averages=self.use_moving_averages,
                    winograd_tile_size=winograd_tile_size(self.winograd, model_name),
                    score_threshold=self.score_threshold, iou_threshold=self.iou_threshold,
                    keep_top_k=self.keep_top_k)


def detection_options(values):
    """`DetectionOptions` from `define_model_flags`' flags."""
    return DetectionOptions(use_moving_averages=values.moving_averages, winograd=values.winograd,
                            score_threshold=values.select_threshold,
                            iou_threshold=values.nms_threshold, keep_top_k=values.keep_top_k)


def with_display_defaults(options, model_name):
    """``options`` with the model's picture thresholds where they are None (`ModelSpec.
    display_postprocess`: YOLO v1 shows darknet's test_yolo 0.2 / NMS 0.4; others their deploy's)."""
    display = nets_factory.get_model_spec(model_name).display_postprocess
    return dataclasses.replace(
        options,
        score_threshold=(options.score_threshold if options.score_threshold is not None
                         else display.get('score_threshold')),
        iou_threshold=(options.iou_threshold if options.iou_threshold is not None
                       else display.get('iou_threshold')))


def winograd_tile_size(choice, model_name=None):
    """The detector's ``winograd_tile_size`` for a --winograd choice: 'auto' is adaptive (per layer,
    `winograd.adaptive_tile_size`) on a CPU-only machine whose TF runs oneDNN kernels (measured faster
    there; on Eigen's kernels or a GPU the direct convolutions are), else None; also None for a
    ``model_name`` without Winograd convolutions (an explicit choice is then refused by its build)."""
    if choice == 'auto':
        if model_name and not nets_factory.get_model_spec(model_name).supports_winograd:
            return None
        cpu_only = not tf.config.list_physical_devices('GPU')
        return winograd.ADAPTIVE if cpu_only and compat.onednn_enabled() else None
    if choice == 'off':
        return None
    return winograd.ADAPTIVE if choice == winograd.ADAPTIVE else int(choice)


def list_images(images):
    """Image files of a file, a folder (not recursive) or a comma-separated list, sorted."""
    paths = []
    for entry in images.split(','):
        if os.path.isdir(entry):
            paths.extend(os.path.join(entry, name) for name in sorted(os.listdir(entry))
                         if name.lower().endswith(IMAGE_EXTENSIONS))
        elif os.path.isfile(entry):
            paths.append(entry)
        else:
            raise ValueError('no image file or folder at %s' % entry)
    if not paths:
        raise ValueError('no image (%s) in %s' % (', '.join(IMAGE_EXTENSIONS), images))
    return paths


def eval_preprocess_fn(settings):
    """The test-time preprocessing of the one the model trained with (its JSON's
    ``preprocessing_name``: R-FCN's scale), else of the model's default."""
    name = (settings.get('preprocessing_name')
            or nets_factory.get_model_spec(settings['model_name']).preprocessing_name)
    preprocess = preprocessing_factory.get_preprocessing(name)
    return lambda tensor_dict: preprocess(tensor_dict, is_training=False,
                                          convention=settings['input_convention'])


def _batch_size(settings, batch_size):
    """The model's own images per batch where it fixes one (R-FCN: 1, images of any size)."""
    return nets_factory.get_model_spec(settings['model_name']).images_per_batch or batch_size


def image_files_dataset(paths, source_ids, settings, batch_size):
    """Batches of evaluation-preprocessed images read from files (JPEG, PNG, BMP)."""
    batch_size = _batch_size(settings, batch_size)
    preprocess = eval_preprocess_fn(settings)

    def load(path, source_id):
        image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        image.set_shape([None, None, 3])
        tensor_dict = {fields.image: image, fields.source_id: source_id, fields.filename: path,
                       fields.original_image_shape: tf.shape(image, out_type=tf.int32),
                       fields.groundtruth_boxes: tf.zeros([0, 4])}
        return preprocess(tensor_dict)

    dataset = tf.data.Dataset.from_tensor_slices((list(paths), list(source_ids)))
    dataset = dataset.map(load, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def tfrecord_dataset(files, settings, batch_size, ignore_errors=False):
    """Batches of evaluation-preprocessed TFRecord examples, ground truth included (padded);
    ``ignore_errors``: skip records that do not read, parse or decode."""
    batch_size = _batch_size(settings, batch_size)
    return input_pipeline.build_dataset(list(files), batch_size, eval_preprocess_fn(settings),
                                        is_training=False, num_epochs=1, drop_remainder=False,
                                        ignore_errors=ignore_errors)


def iterate_detections(dataset_fn, settings, checkpoint_prefix, num_images=None, data_format='NHWC',
                       use_moving_averages=True, winograd_tile_size=None, **postprocess_overrides):
    """Restores the checkpoint and yields one dict of NumPy arrays per image.

    ``dataset_fn()`` builds the batched dataset (`image_files_dataset`, `tfrecord_dataset`) inside
    the inference graph. ``use_moving_averages``: restore each weight from its moving average where the
    checkpoint holds one (training with ``moving_average_decay``). ``winograd_tile_size``: see
    `nets.single_shot_detector.SingleShotDetector`.

    Each dict holds ``source_id`` (str), ``filename`` (str), ``original_image_shape`` ``[3]``,
    ``detection_boxes`` ``[n, 4]``, ``detection_scores`` ``[n]``, ``detection_classes`` ``[n]``
    (1-based) and, when the dataset has them, the image's unpadded ground truth.
    """
    with tf.Graph().as_default():
        batch = tf.data.make_one_shot_iterator(dataset_fn()).get_next()
        detector = nets_factory.get_model_spec(settings['model_name']).build(
            settings['num_classes'], depth_multiplier=settings['depth_multiplier'],
            data_format=data_format, batch_norm=settings['batch_norm'],
            winograd_tile_size=winograd_tile_size, **settings['model_options'])
        predictions, _ = detector.predict(batch[fields.image], is_training=False)
        outputs = detector.postprocess(predictions, **postprocess_overrides)
        outputs.update({key: batch[key] for key in batch if key != fields.image})
        saver = tf.train.Saver(variables_to_restore(checkpoint_prefix, use_moving_averages))
        with tf.Session() as session, tqdm.tqdm(total=num_images, unit='img',
                                                 desc='detect') as progress:
            saver.restore(session, checkpoint_prefix)
            session.run(tf.local_variables_initializer())  # caches computed from the restored weights
            while True:
                try:
                    values = session.run(outputs)
                except tf.errors.OutOfRangeError:
                    return
                for image in _split_batch(values):
                    progress.update(1)
                    yield image


def variables_to_restore(checkpoint_prefix, use_moving_averages=True):
    """{name in the checkpoint: variable} for the graph's global variables.

    With ``use_moving_averages``, a variable whose moving average the checkpoint holds (the name
    ``tf.train.ExponentialMovingAverage`` gives it) is restored from the average instead.
    """
    stored = tf.train.load_checkpoint(checkpoint_prefix).get_variable_to_shape_map()
    naming = tf.train.ExponentialMovingAverage(decay=0.0)
    restore = {}
    for variable in tf.global_variables():
        average = naming.average_name(variable)
        use_average = use_moving_averages and average in stored
        restore[average if use_average else variable.op.name] = variable
    return restore


def _split_batch(values):
    for index in range(len(values['num_detections'])):
        count = int(values['num_detections'][index])
        image = {key: values[key][index][:count] for key in
                 ('detection_boxes', 'detection_scores', 'detection_classes')}
        for key in (fields.source_id, fields.filename):
            if key in values:
                image[key] = values[key][index].decode('utf-8')
        image[fields.original_image_shape] = values[fields.original_image_shape][index]
        if fields.num_groundtruth_boxes in values:
            num_boxes = int(values[fields.num_groundtruth_boxes][index])
            for key in standard_fields.PER_OBJECT_FIELDS:
                if key in values:
                    image[key] = np.asarray(values[key][index][:num_boxes])
        yield image
