"""FID (Heusel et al. 2017) on InceptionV3's pool features, from a local tf-slim checkpoint.

The network is tf-slim's ``inception_v3`` (``tf_slim/nets/inception_v3.py``) restored by name from
``--inception_checkpoint`` (slim's published ``inception_v3_2016_08_28/inception_v3.ckpt`` has 1001
classes; the class count is read from the checkpoint). The features are its ``PreLogits`` end point:
the 8 x 8 average pool of ``Mixed_7c``, 2048 values per image, the layer FID is defined on ("pool_3"
of the 2015 Inception graph that the TTUR code and TF-GAN read). That graph is another training run
of the same architecture, so FIDs from slim's checkpoint compare with each other, not with
published numbers.

Images are float32 ``[n, height, width, channels]`` in [-1, 1] (DCGAN's range, also slim's Inception
input range), ``channels`` 3 or 1 (grayscale repeated to RGB), resized bilinearly to 299 x 299 as
slim's Inception evaluation preprocessing does.
"""
import numpy as np
import tensorflow.compat.v1 as tf
import tf_slim as slim
from tf_slim.nets import inception_v3
from tqdm import tqdm

from tf1zoo.ops import frechet_distance

INPUT_SIZE = 299
SCOPE = 'InceptionV3'
FEATURES = 'PreLogits'
FEATURE_SIZE = 2048
_LOGITS_WEIGHTS = SCOPE + '/Logits/Conv2d_1c_1x1/weights'


class InceptionCheckpointError(ValueError):
    """The checkpoint is not an InceptionV3 one (or does not fit slim's net)."""


def resolve_checkpoint(path):
    """A checkpoint prefix from a prefix or a folder of checkpoints; its class count."""
    prefix = tf.train.latest_checkpoint(path) if tf.io.gfile.isdir(path) else path
    if prefix is None:
        raise InceptionCheckpointError('%s: no checkpoint in this folder' % path)
    try:
        shapes = tf.train.load_checkpoint(prefix).get_variable_to_shape_map()
    except (tf.errors.NotFoundError, tf.errors.DataLossError, ValueError) as error:
        raise InceptionCheckpointError('%s: not a readable checkpoint (%s)'
                                       % (prefix, str(error).splitlines()[0])) from None
    if _LOGITS_WEIGHTS not in shapes:
        raise InceptionCheckpointError('%s is not a tf-slim InceptionV3 checkpoint: it has no %s'
                                       % (prefix, _LOGITS_WEIGHTS))
    return prefix, int(shapes[_LOGITS_WEIGHTS][-1])


def _network_inputs(images):
    """float ``[n, h, w, 1 or 3]`` in [-1, 1] -> ``[n, 299, 299, 3]`` (bilinear, half-pixel centres)."""
    if images.shape[-1] == 1:
        images = tf.tile(images, [1, 1, 1, 3])
    return tf.compat.v2.image.resize(images, [INPUT_SIZE, INPUT_SIZE], method='bilinear')


def pool_features(checkpoint_path, images, batch_size=32, show_progress=False):
    """float32 ``[n, 2048]``: the restored InceptionV3's pool features of ``images``.

    Raises:
      InceptionCheckpointError: the checkpoint is missing, unreadable, or not InceptionV3's.
    """
    return pool_feature_sets(checkpoint_path, [images], batch_size, show_progress)[0]


def pool_feature_sets(checkpoint_path, image_sets, batch_size=32, show_progress=False):
    """`pool_features` of each of ``image_sets`` (all of one image shape), one graph and restore."""
    prefix, num_classes = resolve_checkpoint(checkpoint_path)
    with tf.Graph().as_default():
        inputs = tf.placeholder(tf.float32, [None] + list(image_sets[0].shape[1:]))
        with slim.arg_scope(inception_v3.inception_v3_arg_scope()):
            _, end_points = inception_v3.inception_v3(
                _network_inputs(inputs), num_classes=num_classes, is_training=False,
                create_aux_logits=False, scope=SCOPE)
        features = tf.squeeze(end_points[FEATURES], [1, 2])
        with tf.Session() as session:
            try:
                tf.train.Saver(tf.global_variables(SCOPE)).restore(session, prefix)
            except (tf.errors.NotFoundError, tf.errors.InvalidArgumentError) as error:
                raise InceptionCheckpointError('%s does not fit tf-slim\'s InceptionV3: %s' % (
                    prefix, str(error).splitlines()[0])) from None
            return [_run_batches(session, features, inputs, images, batch_size, show_progress)
                    for images in image_sets]


def _run_batches(session, features, inputs, images, batch_size, show_progress):
    starts = range(0, len(images), batch_size)
    parts = [session.run(features, {inputs: images[start:start + batch_size]})
             for start in tqdm(starts, desc='InceptionV3 features', unit='batch',
                               disable=not show_progress)]
    return np.concatenate(parts) if parts else np.zeros([0, FEATURE_SIZE], np.float32)


def frechet_inception_distance(checkpoint_path, images_1, images_2, batch_size=32,
                               show_progress=False):
    """FID between two image sets (of one shape) on the pool features (`frechet_distance`)."""
    return frechet_distance.feature_frechet_distance(
        *pool_feature_sets(checkpoint_path, [images_1, images_2], batch_size, show_progress))
