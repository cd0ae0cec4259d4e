"""Image folders (DCGAN's data: a folder tree, CelebA's ``img_align_celeba/``, LSUN's exported
folders) as sharded TFRecords, and back through tf.data.

Each record is a `tf.train.Example` with ``image/encoded`` (the file's bytes, checked with the input
pipeline's decoder at conversion), ``image/format``, ``image/filename`` and ``image/class/label``
(the 0-based index of the image's first-level subfolder among the sorted class folders, or -1 for
images directly in the root). Shards and the split's JSON are written as the detection converter
writes them (`tfrecord_io.write_sharded_tfrecords`, `split_info`: whole or not at all), named
``<name>-00000-of-00004.tfrecord`` and ``<name>.json``; the JSON's class names are the folders'.
"""
import os
from typing import Optional, Sequence

import tensorflow.compat.v1 as tf

from tf1zoo.datasets import image_folder, input_pipeline, split_info, tfrecord_io

ENCODED = 'image/encoded'
FORMAT = 'image/format'
FILENAME = 'image/filename'
LABEL = 'image/class/label'


def _serialize(item, image_bytes):
    path, label = item
    feature = {
        ENCODED: tf.train.Feature(bytes_list=tf.train.BytesList(value=[image_bytes])),
        FORMAT: tf.train.Feature(bytes_list=tf.train.BytesList(
            value=[tfrecord_io.image_format(image_bytes, path).encode()])),
        FILENAME: tf.train.Feature(bytes_list=tf.train.BytesList(
            value=[os.path.basename(path).encode('utf-8')])),
        LABEL: tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def convert_image_folder(image_dir, output_dir, name, num_shards=4, num_workers=4, skip_bad=False,
                         show_progress=True):
    """Writes every image of ``image_dir`` (`image_folder.list_image_files`) as ``name``'s shards and
    JSON; returns ``(tfrecord_io.WriteResult, skipped files)``. A file the pipeline's decoder refuses
    is a DatasetError naming it, or skipped with ``skip_bad``; a failed run leaves the earlier split."""
    paths = image_folder.list_image_files(image_dir)
    class_names, labels = image_folder.folder_classes(image_dir, paths)
    items = list(zip(paths, labels))

    def load(item):
        image_bytes, _ = tfrecord_io.read_decodable_image(item[0])
        return item, image_bytes

    stream = tfrecord_io.ExampleStream(load, items, skip_bad=skip_bad, num_workers=num_workers,
                                       class_names=class_names)
    result, _, skipped = split_info.write_split(
        [stream], output_dir, name, num_shards,
        dict(dataset_name=name, split='', class_names=tuple(class_names),
             dataset_format='image_folder', sources=(image_dir,)),
        num_workers=num_workers, show_progress=show_progress, serialize_fn=_serialize)
    return result, skipped


def record_files(dataset_dir, name):
    """The split's shard files, checked whole against its JSON (`split_info.check_shard_set`)."""
    return input_pipeline.list_files(os.path.join(dataset_dir, name + '-*.tfrecord'))


def _parse(serialized, image_size, crop_size):
    parsed = tf.io.parse_single_example(serialized, {
        ENCODED: tf.io.FixedLenFeature([], tf.string),
        LABEL: tf.io.FixedLenFeature([], tf.int64, default_value=-1)})
    image = tfrecord_io.decode_rgb(parsed[ENCODED])
    return image_folder.center_crop_and_resize(image, image_size, crop_size), tf.cast(parsed[LABEL],
                                                                                      tf.int32)


def build_record_dataset(files: Sequence[str], image_size, batch_size, is_training=True,
                         seed: Optional[int] = None, crop_size: Optional[int] = None,
                         shuffle_buffer=4096):
    """Batches of ``(images float32 [batch, size, size, 3] in [-1, 1], labels int32 [batch])``, the
    same crop and resize as the folder pipeline; shuffled and repeated when training."""
    dataset = tf.data.Dataset.from_tensor_slices(list(files))
    if is_training:
        dataset = dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True).repeat()
    dataset = dataset.interleave(tf.data.TFRecordDataset, cycle_length=min(4, len(files)),
                                 num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if is_training:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed)
    dataset = dataset.map(lambda serialized: _parse(serialized, image_size, crop_size),
                          num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.batch(batch_size, drop_remainder=is_training).prefetch(tf.data.AUTOTUNE)
