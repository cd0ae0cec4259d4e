"""MNIST from its idx files (LeCun et al.'s ``train-images-idx3-ubyte`` etc., plain or gzipped), for
DCGAN's grayscale run (the paper trains on MNIST too, sec. 4).

The idx format: a big-endian magic number whose third byte is the data type (0x08: unsigned byte)
and fourth the number of dimensions, then each dimension as a big-endian int32, then the data.
Images are uint8 ``[n, 28, 28]``, labels uint8 ``[n]``. `build_mnist_dataset` pads the 28 x 28
digits to 32 x 32 (a 4 x power-of-two size for DCGAN's stages; 2 pixels of background each side)
and scales them to [-1, 1] as float32 ``[batch, 32, 32, 1]``.
"""
import gzip
from typing import Optional

import numpy as np
import tensorflow.compat.v1 as tf

from tf1zoo.datasets.tfrecord_io import DatasetError

_UNSIGNED_BYTE = 0x08
MNIST_PADDED_SIZE = 32


def read_idx(path):
    """The array of an idx file (``.gz`` read through gzip); a malformed file is a DatasetError."""
    opener = gzip.open if str(path).endswith('.gz') else open
    try:
        with opener(path, 'rb') as stream:
            data = stream.read()
    except (OSError, EOFError) as error:
        raise DatasetError(path, 'cannot read idx file (%s)' % error) from error
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DatasetError(path, 'not an idx file (its magic number is %r)' % data[:4])
    if data[2] != _UNSIGNED_BYTE:
        raise DatasetError(path, 'idx data type 0x%02x is not unsigned bytes (0x08)' % data[2])
    rank = data[3]
    header = 4 + 4 * rank
    if len(data) < header:
        raise DatasetError(path, 'truncated idx header (%d dimensions announced)' % rank)
    shape = tuple(int(v) for v in np.frombuffer(data[4:header], '>i4'))
    expected = int(np.prod(shape)) if shape else 0
    if len(data) - header != expected:
        raise DatasetError(path, 'idx data holds %d bytes, its header %s says %d'
                           % (len(data) - header, list(shape), expected))
    return np.frombuffer(data[header:], np.uint8).reshape(shape)


def read_mnist(images_path, labels_path=None):
    """(images uint8 ``[n, 28, 28]``, labels uint8 ``[n]`` or None); counts must agree."""
    images = read_idx(images_path)
    if images.ndim != 3:
        raise DatasetError(images_path, 'MNIST images are [n, rows, cols], got shape %s'
                           % (images.shape,))
    labels = read_idx(labels_path) if labels_path else None
    if labels is not None and labels.shape != images.shape[:1]:
        raise DatasetError(labels_path, '%s labels for %d images' % (labels.shape, len(images)))
    return images, labels


def build_mnist_dataset(images_path, batch_size, is_training=True, seed: Optional[int] = None):
    """Batches of float32 ``[batch, 32, 32, 1]`` in [-1, 1]: the digits padded to 32 x 32."""
    images, _ = read_mnist(images_path)
    pad = (MNIST_PADDED_SIZE - images.shape[1]) // 2
    padded = np.pad(images, [(0, 0), (pad, MNIST_PADDED_SIZE - images.shape[1] - pad),
                             (pad, MNIST_PADDED_SIZE - images.shape[2] - pad)])
    scaled = (padded.astype(np.float32) / 127.5 - 1.0)[..., None]
    dataset = tf.data.Dataset.from_tensor_slices(scaled)
    if is_training:
        dataset = dataset.shuffle(len(scaled), seed=seed, reshuffle_each_iteration=True).repeat()
    return dataset.batch(batch_size, drop_remainder=is_training).prefetch(tf.data.AUTOTUNE)
