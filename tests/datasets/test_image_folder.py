"""The DCGAN image-folder pipeline: centre square, resize, [-1, 1], errors naming the folder."""
import os

import cv2
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from tf1zoo.datasets import image_folder
from tf1zoo.datasets.tfrecord_io import DatasetError


def test_centre_square_scaled_to_minus_one_one(tmp_path):
    # A 4 x 8 image: black left quarter, white centre square, black right quarter.
    image = np.zeros((4, 8, 3), np.uint8)
    image[:, 2:6] = 255
    os.makedirs(tmp_path / 'sub')
    cv2.imwrite(str(tmp_path / 'sub' / 'a.PNG'), image)
    cv2.imwrite(str(tmp_path / 'b.jpg'), np.full((6, 6, 3), 0, np.uint8))
    (tmp_path / 'notes.txt').write_text('not an image')
    assert [os.path.basename(p) for p in image_folder.list_image_files(str(tmp_path))] == \
        ['b.jpg', 'a.PNG']
    with tf.Graph().as_default(), tf.Session() as session:
        batch = tf.data.make_one_shot_iterator(image_folder.build_image_dataset(
            str(tmp_path), 2, batch_size=2, is_training=False)).get_next()
        values = session.run(batch)
    assert values.shape == (2, 2, 2, 3)
    np.testing.assert_allclose(values[0], -1.0, atol=1e-2)   # black
    np.testing.assert_allclose(values[1], 1.0, atol=1e-6)    # the white centre square only


def test_missing_or_empty_folder_is_named(tmp_path):
    with pytest.raises(DatasetError, match='not found'):
        image_folder.list_image_files(str(tmp_path / 'absent'))
    with pytest.raises(DatasetError, match=str(tmp_path)):
        image_folder.list_image_files(str(tmp_path))


def test_crop_size_cuts_the_centred_square_before_the_resize(tmp_path):
    # 8 x 8: a white 4 x 4 centre on black; crop 4 keeps the white centre only.
    image = np.zeros((8, 8, 3), np.uint8)
    image[2:6, 2:6] = 255
    cv2.imwrite(str(tmp_path / 'a.png'), image)
    with tf.Graph().as_default(), tf.Session() as session:
        cropped = session.run(tf.data.make_one_shot_iterator(image_folder.build_image_dataset(
            str(tmp_path), 2, batch_size=1, is_training=False, crop_size=4)).get_next())
        whole = session.run(tf.data.make_one_shot_iterator(image_folder.build_image_dataset(
            str(tmp_path), 2, batch_size=1, is_training=False)).get_next())
    np.testing.assert_allclose(cropped, 1.0, atol=1e-6)
    assert whole.max() < 1.0 and whole.min() > -1.0  # each output pixel mixes white and black
