"""The detectors' tf.data input pipeline: TFRecord shards -> decoded, preprocessed, padded batches.

Stages (``build_dataset``): list the shard files (shuffled when training), interleave their
``TFRecordDataset``s, shuffle examples, decode (``tfrecord_io.decode_example``) and preprocess in
parallel, count the boxes, pad-batch and prefetch. Batched tensors keep the ``InputDataFields`` keys;
per-object fields are padded to the largest ``num_boxes`` in the batch with zero boxes, class 0
(background) and False flags, and ``num_groundtruth_boxes`` int32 ``[batch]`` says how many are real.
"""
from typing import Callable, Optional, Sequence, Union

import tensorflow.compat.v1 as tf

from tf1zoo.datasets import split_info, tfrecord_io
from tf1zoo.datasets.tfrecord_io import DatasetError
from tf1zoo.ops.standard_fields import InputDataFields

AUTOTUNE = tf.data.experimental.AUTOTUNE
DEFAULT_SHUFFLE_BUFFER = 2048
DEFAULT_CYCLE_LENGTH = 4


def list_files(file_pattern: Union[str, Sequence[str]]):
    """The sorted files matching a glob or a list of globs / paths; none, or converter shards that
    are not a whole split (`split_info.check_shard_set`), is a DatasetError."""
    patterns = [file_pattern] if isinstance(file_pattern, str) else list(file_pattern)
    files = sorted({path for pattern in patterns for path in tf.io.gfile.glob(pattern)})
    if not files:
        raise DatasetError(', '.join(patterns) or '<empty file list>', 'no TFRecord file matches')
    split_info.check_shard_set(files)
    return files


def _add_num_boxes(tensor_dict):
    tensor_dict = dict(tensor_dict)
    boxes = tensor_dict[InputDataFields.groundtruth_boxes]
    tensor_dict[InputDataFields.num_groundtruth_boxes] = tf.shape(boxes, out_type=tf.int32)[0]
    return tensor_dict


def _records(files, is_training, seed, num_epochs, cycle_length, deterministic):
    """Serialized examples, interleaved across the shard files, repeated ``num_epochs`` times."""
    dataset = tf.data.Dataset.from_tensor_slices(files)
    if is_training:
        dataset = dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.repeat(num_epochs)
    return dataset.interleave(tf.data.TFRecordDataset,
                              cycle_length=min(cycle_length, len(files)),
                              num_parallel_calls=AUTOTUNE, deterministic=deterministic)


def build_dataset(file_pattern: Union[str, Sequence[str]], batch_size: int,
                  preprocess_fn: Optional[Callable] = None, is_training: bool = False,
                  seed: Optional[int] = None, num_parallel_calls: int = AUTOTUNE,
                  shuffle_buffer: int = DEFAULT_SHUFFLE_BUFFER, num_epochs: Optional[int] = None,
                  drop_remainder: Optional[bool] = None, cycle_length: int = DEFAULT_CYCLE_LENGTH,
                  ignore_errors: bool = False) -> tf.data.Dataset:
    """A dataset of padded batches (tensor dicts keyed by ``InputDataFields``).

    Args:
      file_pattern: a glob or list of globs / paths of TFRecord shards; no match is a DatasetError.
      batch_size: examples per batch.
      preprocess_fn: tensor_dict -> tensor_dict applied after decoding (e.g. SSD augmentation), or
        None to batch the decoded images (then padded to the largest image with zeros).
      is_training: shuffles files and examples; repeats forever when ``num_epochs`` is None.
      seed: makes the pipeline reproducible: two pipelines with the same seed give the same batches.
        The preprocessing then runs in one thread, because the state of stateful random ops
        (``tf.random.uniform`` in augmentation) would otherwise advance in thread order; those ops
        still need seeds of their own (op seeds or the graph seed).
      num_parallel_calls: decode (and, without a seed, preprocess) parallelism.
      shuffle_buffer: examples in the shuffle buffer (training).
      num_epochs: passes over the data; None is forever when training, once otherwise.
      drop_remainder: drop the last partial batch; None means ``is_training``.
      cycle_length: shard files read concurrently.
      ignore_errors: skip examples whose record is corrupt (``DataLossError``) or whose image does
        not decode, instead of raising.
    """
    files = list_files(file_pattern)
    if num_epochs is None and not is_training:
        num_epochs = 1
    if drop_remainder is None:
        drop_remainder = is_training
    deterministic = seed is not None or not is_training
    dataset = _records(files, is_training, seed, num_epochs, cycle_length, deterministic)
    if is_training:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.map(tfrecord_io.decode_example, num_parallel_calls=num_parallel_calls,
                          deterministic=deterministic)
    if preprocess_fn is not None:
        dataset = dataset.map(preprocess_fn,
                              num_parallel_calls=None if seed is not None else num_parallel_calls,
                              deterministic=deterministic)
    if ignore_errors:
        dataset = dataset.apply(tf.data.experimental.ignore_errors())
    dataset = dataset.map(_add_num_boxes, num_parallel_calls=num_parallel_calls,
                          deterministic=deterministic)
    # padded_batch's default padding values are the convention: 0 boxes and class 0 (background),
    # False flags, 0 pixels; scalars and fixed-size fields are not padded.
    dataset = dataset.padded_batch(batch_size, drop_remainder=drop_remainder)
    return dataset.prefetch(AUTOTUNE)


def make_one_shot_batch(dataset):
    """The next-batch tensors of a one-shot iterator over ``dataset`` (graph mode)."""
    return tf.data.make_one_shot_iterator(dataset).get_next()


def make_initializable_batch(dataset):
    """``(initializer_op, next_batch)`` of an initializable iterator, e.g. to re-run evaluation."""
    iterator = tf.data.make_initializable_iterator(dataset)
    return iterator.initializer, iterator.get_next()
