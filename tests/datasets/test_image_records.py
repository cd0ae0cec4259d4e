"""Image folders through TFRecords: the same pixels and class labels as the folder pipeline, bad images
named or skipped, a split written whole."""
import os
import shutil
import struct

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from tf1zoo.datasets import image_folder, image_records, mnist, split_info, synthetic_shapes
from tf1zoo.datasets.tfrecord_io import DatasetError


@pytest.fixture(scope='module')
def centred(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('centred'))
    synthetic_shapes.generate_centred(root, num_train=12, num_test=6, image_size=16,
                                      show_progress=False)
    return os.path.join(root, 'train')


def _all(dataset):
    batch = tf.data.make_one_shot_iterator(dataset).get_next()
    values = []
    with tf.Session() as session:
        while True:
            try:
                values.append(session.run(batch))
            except tf.errors.OutOfRangeError:
                return values


def test_records_give_the_folders_pixels_and_labels(centred, tmp_path):
    result, skipped = image_records.convert_image_folder(centred, str(tmp_path), 'shapes_train',
                                                         num_shards=2, show_progress=False)
    assert result.num_examples == 12 and not skipped
    files = image_records.record_files(str(tmp_path), 'shapes_train')
    with tf.Graph().as_default():
        from_records = _all(image_records.build_record_dataset(files, 16, 12, is_training=False))
    paths, labels, classes = image_folder.labelled_image_files(centred)
    with tf.Graph().as_default():
        from_folder = _all(image_folder.build_labelled_dataset(paths, labels, 16, 12,
                                                               is_training=False))
    record_images, record_labels = np.concatenate([b[0] for b in from_records]), \
        np.concatenate([b[1] for b in from_records])
    folder_images, folder_labels = from_folder[0]
    # The shards interleave the files: compare as sets of (label, pixels).
    order_r = np.lexsort((record_images.reshape(12, -1).sum(1), record_labels))
    order_f = np.lexsort((folder_images.reshape(12, -1).sum(1), folder_labels))
    np.testing.assert_array_equal(record_labels[order_r], folder_labels[order_f])
    np.testing.assert_allclose(record_images[order_r], folder_images[order_f], atol=1e-6)
    assert classes == tuple(sorted(synthetic_shapes.CLASS_NAMES))


def test_an_undecodable_image_is_named_or_skipped(centred, tmp_path):
    folder = str(tmp_path / 'images')
    shutil.copytree(centred, folder)
    bad = os.path.join(folder, 'star', 'train_000003.png')
    with open(bad, 'r+b') as image:
        image.seek(40)
        image.write(b'\x00' * 200)
    with pytest.raises(DatasetError, match='train_000003.png: PNG does not decode'):
        image_records.convert_image_folder(folder, str(tmp_path / 'out'), 'x', show_progress=False)
    assert not os.path.exists(tmp_path / 'out' / 'x.json')
    result, skipped = image_records.convert_image_folder(folder, str(tmp_path / 'out'), 'x',
                                                         skip_bad=True, show_progress=False)
    assert result.num_examples == 11 and [item.path for item in skipped] == [bad]


def _idx(array):
    header = struct.pack('>BBBB', 0, 0, 0x08, array.ndim) + struct.pack('>%di' % array.ndim, *array.shape)
    return header + array.astype(np.uint8).tobytes()


def test_mnist_records_give_the_idx_pipelines_pixels_and_the_digits(tmp_path):
    digits = np.random.default_rng(1).integers(0, 256, (7, 28, 28)).astype(np.uint8)
    labels = np.array([3, 1, 4, 1, 5, 9, 2], np.uint8)
    images_path, labels_path = tmp_path / 'train-images-idx3-ubyte', tmp_path / 'train-labels-idx1-ubyte'
    images_path.write_bytes(_idx(digits))
    labels_path.write_bytes(_idx(labels))
    out = str(tmp_path / 'records')
    result = image_records.convert_mnist(str(images_path), out, 'mnist_train', str(labels_path),
                                         num_shards=2, show_progress=False)
    assert result.num_examples == 7 and image_records.record_channels(out, 'mnist_train') == 1
    files = image_records.record_files(out, 'mnist_train')
    with tf.Graph().as_default():
        batches = _all(image_records.build_record_dataset(files, 32, 7, is_training=False, channels=1))
        from_idx = _all(mnist.build_mnist_dataset(str(images_path), 7, is_training=False))[0]
    record_images = np.concatenate([b[0] for b in batches])
    record_labels = np.concatenate([b[1] for b in batches])
    assert record_images.shape == (7, 32, 32, 1)
    # Shards interleave: match each record to its digit by label order within equal labels.
    expected = {tuple(np.round(image.ravel()[::37], 4)): int(label)
                for image, label in zip(from_idx, labels)}
    got = {tuple(np.round(image.ravel()[::37], 4)): int(label)
           for image, label in zip(record_images, record_labels)}
    assert got == expected  # the same padded pixels (PNG is lossless), each with its digit
    info = split_info.read_split_info(out, 'mnist_train')
    assert info.class_names == tuple('0123456789') and info.dataset_format == 'mnist'


def test_a_malformed_idx_file_is_named_and_nothing_is_written(tmp_path):
    path = tmp_path / 'train-images-idx3-ubyte'
    path.write_bytes(_idx(np.zeros((2, 28, 28)))[:-5])
    with pytest.raises(DatasetError, match='train-images-idx3-ubyte.*its header'):
        image_records.convert_mnist(str(path), str(tmp_path / 'records'), 'mnist_train',
                                    show_progress=False)
    assert not (tmp_path / 'records').exists() or not os.listdir(tmp_path / 'records')
