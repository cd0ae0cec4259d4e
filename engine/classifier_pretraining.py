"""YOLO v1's first stage (Redmon et al. 2016, sec. 2.2): the first 20 convolutions trained as a
classifier before detection, here on crops of a detection dataset's own objects.

The paper pretrains on ImageNet at 224 x 224 and then doubles the input for detection; where no
ImageNet classifier can be had (the embedded data, a new domain), the objects of the detection
training split stand in for ImageNet: each non-difficult ground-truth box, widened by ``CONTEXT`` of
its size on each side and jittered, is cut out, resized to ``crop_size`` and labelled with its class.
The classifier is `yolo_v1.yolo_v1_classifier_layers` (20 convolutions, average pool, fully connected)
under the detector's variable names, trained with softmax cross-entropy on `train_loop`; the detector
then starts from its checkpoint with `yolo_v1.HEAD_SCOPES` excluded (``train_yolo.py
--checkpoint_path=<train_dir> --checkpoint_exclude_scopes=...``). `run_demo.py --model_name=yolo_v1`
runs this stage before its detector; on the embedded data it reaches 0.88 batch accuracy in 400 steps
(docs/experiments.md, "YOLO v1").
"""
from tf1zoo.ops import compat  # noqa: F401, I001  (TF 2.21 graph-mode set-up; must precede TF)
import dataclasses
from typing import Sequence

import tensorflow.compat.v1 as tf
import tf_slim as slim

from tf1zoo.datasets import input_pipeline, tfrecord_io
from tf1zoo.engine import train_loop
from tf1zoo.nets import darknet_layers, yolo_v1
from tf1zoo.ops import image_conventions, standard_fields

fields = standard_fields.InputDataFields

# Context around each box, as a fraction of its height / width on each side, and the jitter of the
# crop's edges (the same fractions): the classifier sees the outline whole, as a detector's cell must.
CONTEXT = 0.1
JITTER = 0.05
# What the detector initialises from scratch after this stage (its --checkpoint_exclude_scopes).
NOT_PRETRAINED = yolo_v1.HEAD_SCOPES
CROPS = 'crops'
LABELS = 'labels'


@dataclasses.dataclass
class PretrainingConfig:
    """The classifier's settings besides the loop's (`train_loop.TrainConfig`)."""

    num_classes: int           # without the background
    depth_multiplier: float = 1.0
    batch_norm: bool = False
    crop_size: int = 224       # the paper's ImageNet resolution
    convention: str = image_conventions.DARKNET_RGB
    shuffle_buffer: int = 1000


def object_crops(tensor_dict, crop_size, convention, is_training=True):
    """A decoded example -> a dataset of its non-difficult objects: ``crops`` float32 ``[crop_size,
    crop_size, 3]`` normalised by ``convention``, ``labels`` int32, 0-based (class - 1)."""
    boxes = tensor_dict[fields.groundtruth_boxes]
    sizes = tf.tile(boxes[:, 2:] - boxes[:, :2], [1, 2])                # (h, w, h, w)
    widened = boxes + sizes * tf.constant([-CONTEXT, -CONTEXT, CONTEXT, CONTEXT])
    if is_training:
        widened += sizes * tf.random.uniform(tf.shape(boxes), -JITTER, JITTER)
    image = tf.cast(tensor_dict[fields.image], tf.float32)
    crops = tf.image.crop_and_resize(image[None], widened, tf.zeros(tf.shape(boxes)[:1], tf.int32),
                                     [crop_size, crop_size])
    if is_training:
        flip = tf.random.uniform([tf.shape(crops)[0], 1, 1, 1]) < 0.5
        crops = tf.compat.v2.where(flip, crops[:, :, ::-1], crops)
    keep = tf.logical_not(tensor_dict[fields.groundtruth_difficult])
    labels = tf.cast(tensor_dict[fields.groundtruth_classes], tf.int32) - 1
    return tf.data.Dataset.from_tensor_slices({
        CROPS: image_conventions.normalize_image(tf.boolean_mask(crops, keep), convention),
        LABELS: tf.boolean_mask(labels, keep)})


def crops_dataset(files: Sequence[str], config: PretrainingConfig, batch_size, is_training=True,
                  seed=None):
    """Batches of `object_crops` from TFRecord shards, shuffled and repeated when training."""
    dataset = tf.data.TFRecordDataset(input_pipeline.list_files(list(files)))
    if is_training:
        dataset = dataset.repeat().shuffle(config.shuffle_buffer, seed=seed)
    dataset = dataset.map(tfrecord_io.decode_example, num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.flat_map(
        lambda example: object_crops(example, config.crop_size, config.convention, is_training))
    if is_training:
        dataset = dataset.shuffle(config.shuffle_buffer, seed=seed)
    return dataset.batch(batch_size, drop_remainder=is_training).prefetch(tf.data.AUTOTUNE)


def classifier_logits(crops, config: PretrainingConfig, is_training):
    """float32 ``[batch, num_classes]`` logits of the pretraining net on ``crops``."""
    layers = darknet_layers.thinned(
        yolo_v1.yolo_v1_classifier_layers(config.num_classes, config.batch_norm),
        config.depth_multiplier)
    with slim.arg_scope(yolo_v1.yolo_v1_arg_scope(is_training=is_training)):
        logits, _ = yolo_v1.yolo_v1_classifier(crops, layers, is_training=is_training)
    return logits


def pretrain_classifier(files, config: PretrainingConfig, train: train_loop.TrainConfig):
    """Trains the classifier on ``files``' object crops; returns the step reached (checkpoints in
    ``train.train_dir``)."""

    def model_fn(batch):
        logits = classifier_logits(batch[CROPS], config, is_training=True)
        accuracy = tf.reduce_mean(tf.cast(tf.equal(
            tf.argmax(logits, -1, output_type=tf.int32), batch[LABELS]), tf.float32))
        tf.summary.scalar('pretraining/accuracy', accuracy)
        loss = tf.losses.sparse_softmax_cross_entropy(batch[LABELS], logits, loss_collection=None)
        return train_loop.ModelOutputs(losses={'classification_loss': loss})

    return train_loop.train(train, lambda: crops_dataset(files, config, train.batch_size,
                                                         seed=train.seed), model_fn)
