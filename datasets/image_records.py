"""Image folders (DCGAN's data: a folder tree, CelebA's ``img_align_celeba/``, LSUN's exported
folders) as sharded TFRecords, and back through tf.data.

Each record is a `tf.train.Example` with ``image/encoded`` (the file's bytes, checked with the input
pipeline's decoder at conversion), ``image/format``, ``image/filename`` and ``image/class/label``
(the 0-based index of the image's first-level subfolder among the sorted class folders, or -1 for
images directly in the root). Shards and the split's JSON are written as the detection converter
writes them (`tfrecord_io.write_sharded_tfrecords`, `split_info`: whole or not at all), named
``<name>-00000-of-00004.tfrecord`` and ``<name>.json``; the JSON's class names are the folders'.

MNIST's idx files convert the same way (`convert_mnist`): each 28 x 28 digit a grayscale PNG, its
label the digit ("0" to "9" the class names), its filename ``<idx file>#<index>.png``, and the JSON's
``dataset_format`` "mnist"; read back (`record_channels` is then 1) the digits are padded to 32 x 32
as `mnist.build_mnist_dataset` pads them, so both give DCGAN the same pixels.
"""
import os
from typing import Optional, Sequence

import cv2
import tensorflow.compat.v1 as tf

from tf1zoo.datasets import image_folder, input_pipeline, mnist, split_info, tfrecord_io

ENCODED = 'image/encoded'
FORMAT = 'image/format'
FILENAME = 'image/filename'
LABEL = 'image/class/label'
MNIST_FORMAT = 'mnist'


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


def convert_mnist(images_path, output_dir, name, labels_path=None, num_shards=4, num_workers=4,
                  show_progress=True):
    """Writes MNIST's digits (idx files, `mnist.read_mnist`; labels optional, else -1) as ``name``'s
    shards and JSON, each a lossless grayscale PNG; returns `tfrecord_io.WriteResult`. A malformed
    idx file is a DatasetError naming it, raised before anything is written."""
    images, labels = mnist.read_mnist(images_path, labels_path)
    source = os.path.basename(images_path)

    def load(index):
        item = ('%s#%05d.png' % (source, index), int(labels[index]) if labels is not None else -1)
        return item, cv2.imencode('.png', images[index])[1].tobytes()

    class_names = tuple(str(digit) for digit in range(10)) if labels is not None else ()
    stream = tfrecord_io.ExampleStream(load, range(len(images)), num_workers=num_workers,
                                       class_names=class_names)
    result, _, _ = split_info.write_split(
        [stream], output_dir, name, num_shards,
        dict(dataset_name=name, split='', class_names=class_names, dataset_format=MNIST_FORMAT,
             sources=tuple(path for path in (images_path, labels_path) if path)),
        num_workers=num_workers, show_progress=show_progress, serialize_fn=_serialize)
    return result


def record_channels(dataset_dir, name):
    """1 for converted MNIST (grayscale digits), else 3 (RGB), from the split's JSON."""
    info = split_info.read_split_info(dataset_dir, name)
    return 1 if info is not None and info.dataset_format == MNIST_FORMAT else 3


def record_files(dataset_dir, name):
    """The split's shard files, checked whole against its JSON (`split_info.check_shard_set`)."""
    return input_pipeline.list_files(os.path.join(dataset_dir, name + '-*.tfrecord'))


def _padded_digit(encoded, image_size):
    """A grayscale PNG digit -> float32 ``[image_size, image_size, 1]`` in [-1, 1], centred with
    background padding (28 -> 32: 2 pixels each side, as `mnist.build_mnist_dataset`)."""
    digit = tf.io.decode_png(encoded, channels=1)
    padded = tf.image.resize_with_crop_or_pad(digit, image_size, image_size)
    return tf.cast(padded, tf.float32) / 127.5 - 1.0


def _parse(serialized, image_size, crop_size, channels):
    parsed = tf.io.parse_single_example(serialized, {
        ENCODED: tf.io.FixedLenFeature([], tf.string),
        LABEL: tf.io.FixedLenFeature([], tf.int64, default_value=-1)})
    if channels == 1:
        image = _padded_digit(parsed[ENCODED], image_size)
    else:
        image = image_folder.center_crop_and_resize(tfrecord_io.decode_rgb(parsed[ENCODED]),
                                                    image_size, crop_size)
    return image, tf.cast(parsed[LABEL], tf.int32)


def build_record_dataset(files: Sequence[str], image_size, batch_size, is_training=True,
                         seed: Optional[int] = None, crop_size: Optional[int] = None,
                         shuffle_buffer=4096, channels=3):
    """Batches of ``(images float32 [batch, size, size, channels] in [-1, 1], labels int32
    [batch])``: with 3 channels the same crop and resize as the folder pipeline, with 1 (converted
    MNIST, `record_channels`) the digits padded to ``image_size``; shuffled and repeated when
    training."""
    dataset = tf.data.Dataset.from_tensor_slices(list(files))
    if is_training:
        dataset = dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True).repeat()
    dataset = dataset.interleave(tf.data.TFRecordDataset, cycle_length=min(4, len(files)),
                                 num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if is_training:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed)
    dataset = dataset.map(lambda serialized: _parse(serialized, image_size, crop_size, channels),
                          num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.batch(batch_size, drop_remainder=is_training).prefetch(tf.data.AUTOTUNE)
