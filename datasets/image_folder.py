"""Unlabelled images from a folder tree, for DCGAN: square crops scaled to [-1, 1].

DCGAN (Radford et al. 2016, sec. 4) scales training images to the generator's tanh range [-1, 1]
and trains on square images (64x64 in the paper); this pipeline takes the centre square of each
image, resizes it and batches float32 ``[batch, size, size, 3]`` RGB images.
"""
import os
from typing import Optional

import tensorflow.compat.v1 as tf

from tf1zoo.datasets import tfrecord_io
from tf1zoo.datasets.tfrecord_io import DatasetError

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png')
AUTOTUNE = tf.data.experimental.AUTOTUNE


def list_image_files(image_dir):
    """Every .jpg / .jpeg / .png file under ``image_dir`` (recursively, any case), sorted.

    A missing folder or one without images is a DatasetError naming it.
    """
    if not os.path.isdir(image_dir):
        raise DatasetError(image_dir, 'image folder not found')
    files = sorted(os.path.join(root, name)
                   for root, _, names in os.walk(image_dir)
                   for name in names if name.lower().endswith(IMAGE_EXTENSIONS))
    if not files:
        raise DatasetError(image_dir, 'no %s image in the folder tree' % '/'.join(IMAGE_EXTENSIONS))
    return files


def center_crop_and_resize(image, image_size, crop_size=None):
    """uint8 ``[H, W, 3]`` -> float32 ``[image_size, image_size, 3]`` in [-1, 1].

    The crop is the centred ``crop_size`` square (DCGAN's CelebA preparation crops 108 x 108 around
    the face before resizing to 64), or without ``crop_size`` (or where the image is smaller) the
    largest centred square; an odd pixel left over goes to the bottom / right. The resize is
    bilinear with antialiasing, since images are mostly shrunk.
    """
    shape = tf.shape(image)
    height, width = shape[0], shape[1]
    side = tf.minimum(height, width)
    if crop_size:
        side = tf.minimum(side, crop_size)
    square = tf.image.crop_to_bounding_box(image, (height - side) // 2, (width - side) // 2,
                                           side, side)
    resized = tf.compat.v2.image.resize(tf.cast(square, tf.float32), [image_size, image_size],
                                        method='bilinear', antialias=True)
    return tf.clip_by_value(resized, 0.0, 255.0) / 127.5 - 1.0


def _decode_file(path):
    return tfrecord_io.decode_rgb(tf.io.read_file(path))


def build_image_dataset(image_dir, image_size, batch_size, is_training=True,
                        seed: Optional[int] = None, num_epochs: Optional[int] = None,
                        shuffle_buffer=4096, num_parallel_calls=AUTOTUNE, drop_remainder=None,
                        crop_size: Optional[int] = None):
    """Batches of float32 ``[batch, image_size, image_size, 3]`` RGB images in [-1, 1].

    ``crop_size``: the centred square cut before the resize (`center_crop_and_resize`).
    Training shuffles the files every epoch (``seed`` makes the order reproducible) and repeats
    forever when ``num_epochs`` is None (once otherwise); ``drop_remainder`` defaults to
    ``is_training``, so training batches have a static batch size.
    """
    files = list_image_files(image_dir)
    if num_epochs is None and not is_training:
        num_epochs = 1
    if drop_remainder is None:
        drop_remainder = is_training
    dataset = tf.data.Dataset.from_tensor_slices(files)
    if is_training:
        dataset = dataset.shuffle(min(len(files), shuffle_buffer), seed=seed,
                                  reshuffle_each_iteration=True)
    dataset = dataset.repeat(num_epochs)
    dataset = dataset.map(lambda path: center_crop_and_resize(_decode_file(path), image_size,
                                                              crop_size),
                          num_parallel_calls=num_parallel_calls, deterministic=True)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    return dataset.prefetch(AUTOTUNE)


def folder_classes(image_dir, paths):
    """(class names, labels): the sorted first-level subfolders of ``image_dir`` that hold
    ``paths``, and each path's index among them (-1 for an image directly in ``image_dir``)."""
    tops = [os.path.relpath(path, image_dir).split(os.sep) for path in paths]
    classes = tuple(sorted({parts[0] for parts in tops if len(parts) > 1}))
    index = {name: i for i, name in enumerate(classes)}
    return classes, [index[parts[0]] if len(parts) > 1 else -1 for parts in tops]


def labelled_image_files(image_dir):
    """(paths, int labels, class names) of a folder tree whose first-level subfolders are the
    classes (sorted names; label = index): the layout of ImageNet's and of the embedded centred
    shapes' folders. A folder without class subfolders holding images is a DatasetError."""
    files = list_image_files(image_dir)
    classes, labels = folder_classes(image_dir, files)
    if not classes:
        raise DatasetError(image_dir, 'no class subfolder holds an image')
    kept = [(path, label) for path, label in zip(files, labels) if label >= 0]
    return [path for path, _ in kept], [label for _, label in kept], classes


def build_labelled_dataset(paths, labels, image_size, batch_size, is_training=True,
                           seed: Optional[int] = None):
    """Batches of ``(images float32 [batch, size, size, 3] in [-1, 1], labels int32 [batch])``:
    shuffled, repeated and with a static batch size when training; one pass otherwise."""
    dataset = tf.data.Dataset.from_tensor_slices((list(paths), list(labels)))
    if is_training:
        dataset = dataset.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True).repeat()
    dataset = dataset.map(
        lambda path, label: (center_crop_and_resize(_decode_file(path), image_size),
                             tf.cast(label, tf.int32)),
        num_parallel_calls=AUTOTUNE, deterministic=True)
    return dataset.batch(batch_size, drop_remainder=is_training).prefetch(AUTOTUNE)
