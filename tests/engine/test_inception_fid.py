"""InceptionV3 pool features from a tf-slim checkpoint written here with random weights (slim's
published layout: 1001 classes, auxiliary logits): the same features as slim's net restored in the
test on images resized by OpenCV, grayscale as its RGB repeat, FID 0 against itself, and a
checkpoint of another net refused by name."""
import cv2
import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tf_slim as slim
from tf_slim.nets import inception_v3

from tf1zoo.engine import inception_fid
from tf1zoo.ops import frechet_distance


def _slim_features(prefix, resized):
    """slim's net on images already at 299 x 299, restored from the whole checkpoint."""
    with tf.Graph().as_default():
        inputs = tf.constant(resized)
        with slim.arg_scope(inception_v3.inception_v3_arg_scope()):
            _, end_points = inception_v3.inception_v3(inputs, num_classes=1001, is_training=False)
        with tf.Session() as session:
            tf.train.Saver().restore(session, prefix)
            return session.run(end_points['PreLogits'])[:, 0, 0]


def test_features_are_slims_pool_on_bilinear_299(random_inception_checkpoint):
    checkpoint = random_inception_checkpoint
    images = np.random.default_rng(0).uniform(-1, 1, (3, 32, 32, 3)).astype(np.float32)
    features = inception_fid.pool_features(checkpoint, images, batch_size=2)
    assert features.shape == (3, 2048)
    # OpenCV's bilinear resize (half-pixel centres, as tf.image.resize) is the independent resize.
    resized = np.stack([cv2.resize(image, (299, 299), interpolation=cv2.INTER_LINEAR) for image in images])
    expected = _slim_features(checkpoint, resized)
    np.testing.assert_allclose(features, expected, rtol=2e-3, atol=1e-3 * np.abs(expected).max())
    assert np.abs(features[0] - features[1]).max() > 1e-3 * np.abs(expected).max()  # input-dependent
    gray = images[:2, ..., :1]
    np.testing.assert_allclose(inception_fid.pool_features(checkpoint, gray),
                               inception_fid.pool_features(checkpoint, np.repeat(gray, 3, axis=-1)),
                               rtol=1e-5, atol=1e-5 * np.abs(expected).max())


def test_fid_is_the_frechet_distance_of_the_features(random_inception_checkpoint):
    checkpoint = random_inception_checkpoint
    rng = np.random.default_rng(1)
    real = rng.uniform(-1, 1, (6, 16, 16, 3)).astype(np.float32)
    fake = np.clip(real * 0.2 + 0.5, -1, 1).astype(np.float32)
    assert abs(inception_fid.frechet_inception_distance(checkpoint, real, real)) < 1e-6 * 2048
    distance = inception_fid.frechet_inception_distance(checkpoint, real, fake)
    expected = frechet_distance.feature_frechet_distance(
        *inception_fid.pool_feature_sets(checkpoint, [real, fake]))
    assert distance > 0 and distance == pytest.approx(expected, rel=1e-6)


def test_another_nets_checkpoint_is_refused_by_name(tmp_path):
    prefix = str(tmp_path / 'other.ckpt')
    with tf.Graph().as_default():
        tf.get_variable('vgg_16/conv1/conv1_1/weights', [3, 3, 3, 4])
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            tf.train.Saver().save(session, prefix, write_meta_graph=False)
    with pytest.raises(inception_fid.InceptionCheckpointError, match='other.ckpt is not a tf-slim '
                       'InceptionV3 checkpoint'):
        inception_fid.pool_features(prefix, np.zeros([2, 8, 8, 3], np.float32))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(inception_fid.InceptionCheckpointError, match='empty: no checkpoint in this folder'):
        inception_fid.pool_features(str(tmp_path / 'empty'), np.zeros([2, 8, 8, 3], np.float32))
    with pytest.raises(inception_fid.InceptionCheckpointError, match='missing.ckpt: not a readable'):
        inception_fid.pool_features(str(tmp_path / 'missing.ckpt'), np.zeros([2, 8, 8, 3], np.float32))
