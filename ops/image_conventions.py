"""Channel order and mean pixel of the networks' inputs, and their inverse.

A convention says how a float32 RGB image with values in [0, 255] becomes a network input:

* ``'caffe_bgr'``: channels reversed to BGR, then the BGR mean ``[104, 117, 123]`` subtracted.
  This is what the SSD and RefineDet Caffe models were trained on (weiliu89/caffe, branch ssd,
  examples/ssd/ssd_pascal.py: ``'mean_value': [104, 117, 123]`` on OpenCV's BGR images).
* ``'slim_rgb'``: channels kept RGB, the RGB mean ``[123.68, 116.78, 103.94]`` subtracted
  (tf-slim's ``vgg_preprocessing._R_MEAN/_G_MEAN/_B_MEAN``, which slim's ``vgg_16.ckpt`` expects).

* ``'inception_rgb'``: RGB scaled to [-1, 1] (``x / 127.5 - 1``; tf-slim's
  ``inception_preprocessing``, which slim's Inception-ResNet-v2 checkpoint expects). Also the input
  scale for nets trained from scratch with He initialisation, whose activations then keep unit
  scale instead of the hundreds that 0..255 inputs give.

* ``'darknet_rgb'``: RGB scaled to [0, 1] (``x / 255``), as darknet's ``load_image_color`` gives
  its nets (YOLO v1; cfgs that begin with a ``[crop]`` layer map that to [-1, 1] inside the net).

The first two apply no scaling: inputs stay in the 0..255 range minus the mean.
"""
import collections

import tensorflow.compat.v1 as tf

CAFFE_BGR = 'caffe_bgr'
SLIM_RGB = 'slim_rgb'
INCEPTION_RGB = 'inception_rgb'
DARKNET_RGB = 'darknet_rgb'

_Convention = collections.namedtuple('_Convention', ['reverse_channels', 'mean_rgb', 'scale'],
                                     defaults=(1.0,))

# Means are stored in RGB order; 'caffe_bgr' subtracts them after reversing to BGR, which is
# the same as subtracting the BGR mean [104, 117, 123] from the BGR image.
_CONVENTIONS = {
    CAFFE_BGR: _Convention(reverse_channels=True, mean_rgb=(123.0, 117.0, 104.0)),
    SLIM_RGB: _Convention(reverse_channels=False, mean_rgb=(123.68, 116.78, 103.94)),
    INCEPTION_RGB: _Convention(reverse_channels=False, mean_rgb=(127.5, 127.5, 127.5),
                               scale=1.0 / 127.5),
    DARKNET_RGB: _Convention(reverse_channels=False, mean_rgb=(0.0, 0.0, 0.0), scale=1.0 / 255.0),
}

KNOWN_CONVENTIONS = tuple(sorted(_CONVENTIONS))


def _lookup(convention):
    if convention not in _CONVENTIONS:
        raise ValueError('Unknown image convention %r; known conventions: %s'
                         % (convention, ', '.join(KNOWN_CONVENTIONS)))
    return _CONVENTIONS[convention]


def mean_rgb(convention):
    """The convention's mean pixel in RGB order, a tuple of three Python floats.

    Used as the fill value of the zoom-out canvas, so that padding becomes exactly 0 after
    `normalize_image`.
    """
    return _lookup(convention).mean_rgb


def normalize_image(image, convention):
    """Turns an RGB image with values in [0, 255] into the network input of `convention`.

    Args:
      image: numeric tensor ``[..., 3]`` in RGB order, values in [0, 255] (uint8 or float).
      convention: one of `KNOWN_CONVENTIONS`.

    Returns:
      float32 tensor of the same shape: channel order per the convention, mean subtracted, scaled.

    Raises:
      ValueError: for an unknown convention.
    """
    spec = _lookup(convention)
    with tf.name_scope('normalize_image'):
        image = tf.cast(image, tf.float32) - tf.constant(spec.mean_rgb, tf.float32)
        if spec.reverse_channels:
            image = tf.reverse(image, axis=[-1])
        return image * spec.scale if spec.scale != 1.0 else image


def denormalize_image(image, convention):
    """Inverse of `normalize_image`: network input back to float32 RGB in [0, 255] (for drawing).

    Args:
      image: float tensor ``[..., 3]`` as produced by `normalize_image` with `convention`.
      convention: one of `KNOWN_CONVENTIONS`.

    Returns:
      float32 tensor of the same shape, RGB order, mean added back (not clipped).
    """
    spec = _lookup(convention)
    with tf.name_scope('denormalize_image'):
        image = tf.cast(image, tf.float32)
        if spec.scale != 1.0:
            image = image / spec.scale
        if spec.reverse_channels:
            image = tf.reverse(image, axis=[-1])
        return image + tf.constant(spec.mean_rgb, tf.float32)
