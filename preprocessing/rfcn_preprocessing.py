"""R-FCN's input (py-faster-rcnn's ``prep_im_for_blob``, as the R-FCN release uses it): the image
resized by one factor so that its shorter side is ``shorter_side`` pixels unless that makes the
longer side exceed ``longer_cap`` (then the longer side is the cap); no square warp, so the image
keeps its aspect ratio and boxes (normalised ``[ymin, xmin, ymax, xmax]``) are unchanged. Training
adds the release's only augmentation, a horizontal flip with probability 0.5 (TRAIN.USE_FLIPPED).
"""
import tensorflow.compat.v1 as tf

from tf1zoo.ops import image_conventions, standard_fields

fields = standard_fields.InputDataFields
# The paper (sec. 4.1) and py-faster-rcnn: TRAIN.SCALES (600,), TRAIN.MAX_SIZE 1000.
SHORTER_SIDE = 600
LONGER_CAP = 1000


def resized_shape(height, width, shorter_side=SHORTER_SIDE, longer_cap=LONGER_CAP):
    """int32 (height, width) after the resize: one scale, ``min(shorter / min(h, w), cap / max(h,
    w))``, sides rounded to the nearest pixel (as OpenCV's resize computes its output size)."""
    height, width = tf.cast(height, tf.float32), tf.cast(width, tf.float32)
    scale = tf.minimum(shorter_side / tf.minimum(height, width), longer_cap / tf.maximum(height, width))
    return (tf.cast(tf.round(height * scale), tf.int32), tf.cast(tf.round(width * scale), tf.int32))


def _resize(tensor_dict, shorter_side, longer_cap, convention):
    image = tf.cast(tensor_dict[fields.image], tf.float32)
    shape = tf.shape(image)
    size = resized_shape(shape[0], shape[1], shorter_side, longer_cap)
    image = tf.image.resize(image, tf.stack(size), method=tf.image.ResizeMethod.BILINEAR)
    result = dict(tensor_dict)
    result[fields.image] = image_conventions.normalize_image(image, convention)
    return result


def rfcn_train_preprocess(tensor_dict, shorter_side=SHORTER_SIDE, longer_cap=LONGER_CAP,
                          convention=image_conventions.INCEPTION_RGB, seed=None):
    """A flip with probability 0.5, then the resize."""
    with tf.name_scope('rfcn_train_preprocess'):
        flip = tf.random.uniform([], seed=seed) < 0.5
        result = dict(tensor_dict)
        result[fields.image] = tf.cond(flip, lambda: tf.reverse(tensor_dict[fields.image], [1]),
                                       lambda: tensor_dict[fields.image])
        ymin, xmin, ymax, xmax = tf.unstack(tensor_dict[fields.groundtruth_boxes], num=4, axis=1)
        flipped = tf.stack([ymin, 1.0 - xmax, ymax, 1.0 - xmin], axis=1)
        result[fields.groundtruth_boxes] = tf.cond(flip, lambda: flipped,
                                                   lambda: tensor_dict[fields.groundtruth_boxes])
        return _resize(result, shorter_side, longer_cap, convention)


def rfcn_eval_preprocess(tensor_dict, shorter_side=SHORTER_SIDE, longer_cap=LONGER_CAP,
                         convention=image_conventions.INCEPTION_RGB):
    """The resize alone."""
    with tf.name_scope('rfcn_eval_preprocess'):
        return _resize(tensor_dict, shorter_side, longer_cap, convention)
