"""MNIST's idx files, written here in the real format (plain and gzipped), and their errors."""
import gzip
import struct

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from tf1zoo.datasets import mnist
from tf1zoo.datasets.tfrecord_io import DatasetError


def _idx(array):
    header = struct.pack('>BBBB', 0, 0, 0x08, array.ndim) + struct.pack('>%di' % array.ndim, *array.shape)
    return header + array.astype(np.uint8).tobytes()


def test_images_and_labels_round_trip_plain_and_gzipped(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (3, 28, 28)).astype(np.uint8)
    labels = np.array([7, 0, 9], np.uint8)
    (tmp_path / 'images-idx3-ubyte').write_bytes(_idx(images))
    with gzip.open(tmp_path / 'labels-idx1-ubyte.gz', 'wb') as stream:
        stream.write(_idx(labels))
    read_images, read_labels = mnist.read_mnist(str(tmp_path / 'images-idx3-ubyte'),
                                                str(tmp_path / 'labels-idx1-ubyte.gz'))
    np.testing.assert_array_equal(read_images, images)
    np.testing.assert_array_equal(read_labels, labels)
    with tf.Graph().as_default(), tf.Session() as session:
        batch = session.run(tf.data.make_one_shot_iterator(mnist.build_mnist_dataset(
            str(tmp_path / 'images-idx3-ubyte'), 3, is_training=False)).get_next())
    assert batch.shape == (3, 32, 32, 1)
    np.testing.assert_allclose(batch[:, 2:30, 2:30, 0], images / 127.5 - 1.0, atol=1e-6)
    np.testing.assert_array_equal(batch[:, :2], -1.0)


@pytest.mark.parametrize('data, problem', [
    (b'\x00\x00\x0d\x01\x00\x00\x00\x01\x00\x00\x00\x00', 'not unsigned bytes'),
    (b'GIF89a', 'not an idx file'),
    (_idx(np.zeros((2, 28, 28)))[:-5], 'its header'),
])
def test_malformed_files_are_named(tmp_path, data, problem):
    path = tmp_path / 'bad-idx3-ubyte'
    path.write_bytes(data)
    with pytest.raises(DatasetError, match='bad-idx3-ubyte: .*' + problem):
        mnist.read_mnist(str(path))
