"""Training a detector of ``nets_factory`` on converted TFRecords, on the shared loop (`train_loop`).

``train_detector(data, model, train)`` is what every detector's train CLI runs (train_ssd.py,
train_refinedet.py) and what run_demo.py composes:

1. `model_config`: the settings that rebuild the trained model (model name, width, batch norm,
   classes, input convention, layout), written to ``<train_dir>/model_config.json`` for eval_voc.py
   and detect.py; a train dir that holds a run of another model is refused first.
2. `make_dataset_fn`: the split's TFRecords through the model's training augmentation, batched.
3. `make_model_fn`: the detector's ``predict`` and ``loss``, plus summary images of its boxes.
4. `train_loop.train`: resume, schedule, checkpoints, NaN guard, progress, TensorBoard.
"""
import dataclasses
import functools
import os
from typing import Mapping, Optional

import tensorflow.compat.v1 as tf

from tf1zoo.datasets import dataset_factory, input_pipeline, tfrecord_io
from tf1zoo.engine import checkpoint_info, train_loop
from tf1zoo.nets import nets_factory
from tf1zoo.ops import image_conventions, standard_fields, visualization
from tf1zoo.preprocessing import preprocessing_factory

fields = standard_fields.InputDataFields
# The settings a resumed run must share with the run that wrote the train dir.
_SAME_MODEL_KEYS = ('model_name', 'depth_multiplier', 'batch_norm', 'num_classes', 'input_convention',
                    'model_options')


@dataclasses.dataclass(frozen=True)
class TrainingData:
    """The converted split to train on and its augmentation.

    ``dataset_name``: a registered dataset or one converted under its own name (its classes come
    from the split's JSON, see `datasets.split_info`). ``preprocessing_name``: None is the model's.
    """

    dataset_name: str
    dataset_dir: str
    split: str = 'trainval'
    file_pattern: Optional[str] = None
    shuffle_buffer: int = input_pipeline.DEFAULT_SHUFFLE_BUFFER
    preprocessing_name: Optional[str] = None
    # Skip records that do not read, parse or decode (tf.data's ignore_errors) instead of stopping;
    # the split is checked first and what is skipped reported.
    skip_corrupt_records: bool = False


@dataclasses.dataclass(frozen=True)
class DetectorSetup:
    """The detector to build: its name in ``nets_factory`` and how it is thinned and initialised.

    ``data_format``: 'auto' is NCHW where a GPU is visible, else NHWC. ``input_convention``: None is
    the one recorded with the initial checkpoint, else the model's (Caffe BGR for SSD).
    """

    model_name: str
    depth_multiplier: float = 1.0
    batch_norm: bool = False
    data_format: str = 'auto'
    input_convention: Optional[str] = None
    weight_decay: float = 0.0005
    weights_init: str = 'xavier'
    # A model's settings beyond these (YOLO v1: its dropout), passed to its factory build and
    # recorded in model_config.json.
    model_options: Mapping = dataclasses.field(default_factory=dict)


def resolve_data_format(data_format):
    """'auto' means NCHW (cuDNN's fastest) when a GPU is visible, NHWC otherwise."""
    if data_format != 'auto':
        return data_format
    return 'NCHW' if tf.config.list_physical_devices('GPU') else 'NHWC'


def resolve_input_convention(model: DetectorSetup, checkpoint_path=None):
    """``model.input_convention``, else the one recorded with ``checkpoint_path`` (a converted Caffe
    base records caffe_bgr), else the model's default. slim's vgg_16.ckpt records none: pass
    slim_rgb with it."""
    if model.input_convention:
        return model.input_convention
    if checkpoint_path:
        prefix = checkpoint_info.resolve_checkpoint(checkpoint_path)
        recorded = checkpoint_info.read_checkpoint_info(prefix).get('input_convention')
        if recorded:
            return recorded
    return nets_factory.get_model_spec(model.model_name).default_convention


def model_config(data: TrainingData, model: DetectorSetup, class_names, checkpoint_path=None):
    """What eval_voc.py and detect.py need to rebuild the trained model (model_config.json)."""
    spec = nets_factory.get_model_spec(model.model_name)
    return {'model_name': model.model_name, 'depth_multiplier': model.depth_multiplier,
            'batch_norm': model.batch_norm,
            # Evaluation runs this preprocessing's test branch: the input scale trained at (R-FCN's
            # shorter side; SSD's and YOLO's variants all resize to the same square).
            'preprocessing_name': data.preprocessing_name or spec.preprocessing_name,
            'num_classes': len(class_names) + 1, 'class_names': list(class_names),
            'input_convention': resolve_input_convention(model, checkpoint_path),
            'dataset_name': data.dataset_name, 'data_format': resolve_data_format(model.data_format),
            'model_options': dict(model.model_options)}


def check_same_model(train_dir, config):
    """Resuming with another model or dataset would silently mix two runs: refuse it."""
    path = os.path.join(train_dir, checkpoint_info.TRAIN_DIR_FILE)
    if not os.path.exists(path):
        return
    previous = checkpoint_info.with_model_defaults(
        checkpoint_info.read_checkpoint_info(os.path.join(train_dir, 'model')))
    changed = ['%s: %r -> %r' % (key, previous.get(key), config[key])
               for key in _SAME_MODEL_KEYS if previous.get(key) != config[key]]
    if changed:
        raise train_loop.TrainDirError('--train_dir holds a run of another model (%s): %s; use a '
                                       'new --train_dir' % (path, ', '.join(changed)))


def make_dataset_fn(data: TrainingData, split, config, batch_size, seed=None):
    """() -> the training tf.data.Dataset of augmented, padded batches of ``split``'s files."""
    model_spec = nets_factory.get_model_spec(config['model_name'])
    preprocess = preprocessing_factory.get_preprocessing(data.preprocessing_name
                                                         or model_spec.preprocessing_name)

    def preprocess_fn(tensor_dict):
        return preprocess(tensor_dict, is_training=True, convention=config['input_convention'],
                          seed=seed)

    return lambda: input_pipeline.build_dataset(
        list(split.files), batch_size, preprocess_fn, is_training=True, seed=seed,
        shuffle_buffer=data.shuffle_buffer, ignore_errors=data.skip_corrupt_records)


def make_model_fn(config, weight_decay, weights_init='xavier'):
    """(batch) -> `train_loop.ModelOutputs`: the detector's losses and a summary of its boxes."""
    detector = nets_factory.get_model_spec(config['model_name']).build(
        config['num_classes'], depth_multiplier=config['depth_multiplier'],
        data_format=config['data_format'], weight_decay=weight_decay, weights_init=weights_init,
        batch_norm=config['batch_norm'], **config['model_options'])

    def model_fn(batch):
        images = batch[fields.image]
        predictions, _ = detector.predict(images, is_training=True)
        losses = detector.loss(predictions, batch)
        detections = detector.postprocess(predictions, keep_top_k=20, score_threshold=0.3)
        pictures = visualization.groundtruth_and_detection_images(
            image_conventions.denormalize_image(images, config['input_convention']),
            batch[fields.groundtruth_boxes], detections['detection_boxes'])
        return train_loop.ModelOutputs(losses=losses, summary_images=pictures)

    return model_fn


def report_damaged_records(files, show_progress=True):
    """Checks every record of ``files`` and prints what ``--skip_corrupt_records`` will skip (how many,
    from which shards, why); returns the `tfrecord_io.DamagedRecord`s. Records that do not read
    end their shard for tf.data, so what follows them is skipped too, and counted."""
    damaged = tfrecord_io.survey_damaged_records(list(files), show_progress)
    print('--skip_corrupt_records: %s' % tfrecord_io.format_damaged(damaged), flush=True)
    return damaged


def train_detector(data: TrainingData, model: DetectorSetup, train: train_loop.TrainConfig):
    """Trains ``model`` on ``data`` as ``train`` says; returns the global step reached.

    Raises:
      ValueError: the dataset is unknown.
      train_loop.TrainDirError: the train dir holds another model's run (nothing is written).
      DatasetError: the split's files are missing, unreadable or not a whole split, or a record
        met in training is damaged (it names the shard and the record; with
        ``data.skip_corrupt_records`` such records are skipped and reported instead).
      train_loop.NaNLossError: the loss diverged (the last good checkpoint is kept).
    """
    if train.cluster is not None and train.cluster.job_name == 'ps':
        # A parameter server holds variables: it builds no model and reads no data.
        return train_loop.train(train, dataset_fn=None, model_fn=None)
    split = dataset_factory.get_split(data.dataset_name, data.split, data.dataset_dir,
                                      data.file_pattern)
    config = model_config(data, model, split.spec.class_names, train.checkpoint_path)
    check_same_model(train.train_dir, config)
    if data.skip_corrupt_records:
        report_damaged_records(split.files, train.show_progress)
    # Written once the train dir's checkpoint (if any) has restored into this model, so that a
    # train dir of another model without a config is refused and left as it was.
    write_config = functools.partial(checkpoint_info.write_json_atomically, os.path.join(
        train.train_dir, checkpoint_info.TRAIN_DIR_FILE), config)
    # A damaged record or an image the decoder refuses: TensorFlow names neither the file nor the
    # record; they are found and named (the last checkpoint is kept as it was).
    with tfrecord_io.damaged_records_named(lambda: split.files):
        return train_loop.train(
            train, make_dataset_fn(data, split, config, train.batch_size, train.seed),
            make_model_fn(config, model.weight_decay, model.weights_init), after_restore=write_config)
