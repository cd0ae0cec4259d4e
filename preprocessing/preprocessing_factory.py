"""Looks up a model's preprocessing by name.

Each preprocessing is a callable
``preprocess(tensor_dict, is_training, convention='caffe_bgr', seed=None) -> tensor_dict`` that
maps a decoded tensor dict (uint8 RGB image, normalised ``[ymin, xmin, ymax, xmax]`` boxes, see
`standard_fields.InputDataFields`) to one whose image is the network's float32
``[out_height, out_width, 3]`` input. Adding a model is one entry in `_PREPROCESSING`.
"""
import functools

from tf1zoo.ops import image_conventions
from tf1zoo.preprocessing import rfcn_preprocessing, ssd_augmentation, yolo_preprocessing


def _ssd_preprocess(tensor_dict, is_training, convention=image_conventions.CAFFE_BGR, seed=None,
                    output_size=None, expand_prob=ssd_augmentation.EXPAND_PROB,
                    samplers=ssd_augmentation.SSD_BATCH_SAMPLERS):
    """SSD-style training augmentation or evaluation warp, at `output_size`."""
    if is_training:
        return ssd_augmentation.ssd_train_preprocess(tensor_dict, output_size, convention, seed=seed,
                                                     expand_prob=expand_prob, samplers=samplers)
    return ssd_augmentation.ssd_eval_preprocess(tensor_dict, output_size, convention)


def _yolo_preprocess(tensor_dict, is_training, convention=image_conventions.DARKNET_RGB, seed=None,
                     output_size=448, hue=yolo_preprocessing.HUE, jitter=yolo_preprocessing.JITTER):
    """YOLO v1's jittered crop, flip and HSV distortion, or its evaluation resize."""
    if is_training:
        return yolo_preprocessing.yolo_train_preprocess(tensor_dict, output_size, convention, seed=seed,
                                                        hue=hue, jitter=jitter)
    return yolo_preprocessing.yolo_eval_preprocess(tensor_dict, output_size, convention)


def _rfcn_preprocess(tensor_dict, is_training, convention=image_conventions.INCEPTION_RGB, seed=None,
                     shorter_side=rfcn_preprocessing.SHORTER_SIDE,
                     longer_cap=rfcn_preprocessing.LONGER_CAP):
    """R-FCN's flip and shorter-side resize (any aspect ratio), or the resize alone."""
    if is_training:
        return rfcn_preprocessing.rfcn_train_preprocess(tensor_dict, shorter_side, longer_cap,
                                                        convention, seed=seed)
    return rfcn_preprocessing.rfcn_eval_preprocess(tensor_dict, shorter_side, longer_cap, convention)


# SSD's first batch sampler alone: the whole image, never a crop.
_WHOLE_IMAGE = ssd_augmentation.SSD_BATCH_SAMPLERS[:1]

# Input sizes: SSD300 / SSD512 (Liu et al. 2016), RefineDet320 / RefineDet512 (Zhang et al. 2018);
# RefineDet (sec. 3.3, 'Data Augmentation') trains with SSD's augmentation.
_PREPROCESSING = {
    'ssd_300': functools.partial(_ssd_preprocess, output_size=300),
    # Without the zoom-out, for short schedules such as the CPU demo (same evaluation warp).
    'ssd_300_no_expand': functools.partial(_ssd_preprocess, output_size=300, expand_prob=0.0),
    # Neither zoom-out nor crop (photometric distortion, flip, resize only): for data whose class is
    # the object's whole outline (the embedded shapes: a triangle cut by a crop looks like a
    # quadrilateral), where SSD's crops teach wrong labels.
    'ssd_300_whole_image': functools.partial(_ssd_preprocess, output_size=300, expand_prob=0.0,
                                             samplers=_WHOLE_IMAGE),
    'ssd_512': functools.partial(_ssd_preprocess, output_size=512),
    'refinedet_320': functools.partial(_ssd_preprocess, output_size=320),
    'refinedet_320_no_expand': functools.partial(_ssd_preprocess, output_size=320, expand_prob=0.0),
    'refinedet_320_whole_image': functools.partial(_ssd_preprocess, output_size=320,
                                                   expand_prob=0.0, samplers=_WHOLE_IMAGE),
    'refinedet_512': functools.partial(_ssd_preprocess, output_size=512),
    # YOLO v1 (Redmon et al. 2016, sec. 2.2): the paper's augmentation; yolo_448_hue adds
    # yolov1.cfg's hue shift of up to 0.1.
    'yolo_448': functools.partial(_yolo_preprocess, output_size=448),
    'yolo_448_hue': functools.partial(_yolo_preprocess, output_size=448, hue=0.1),
    # Without the jittered crop (flip and HSV only): for the embedded shapes, whose class is the
    # whole outline (see ssd_300_whole_image).
    'yolo_448_whole_image': functools.partial(_yolo_preprocess, output_size=448, jitter=0.0),
    # R-FCN (Dai et al. 2016, sec. 4.1): shorter side 600, longer at most 1000; rfcn_160 for the
    # embedded data's small images and CPU tests, rfcn_320 for them at about their own size.
    'rfcn_600': functools.partial(_rfcn_preprocess, shorter_side=600, longer_cap=1000),
    'rfcn_160': functools.partial(_rfcn_preprocess, shorter_side=160, longer_cap=267),
    'rfcn_320': functools.partial(_rfcn_preprocess, shorter_side=320, longer_cap=533),
}

KNOWN_PREPROCESSING = tuple(sorted(_PREPROCESSING))


def get_preprocessing(name):
    """The preprocessing callable registered as `name`.

    Args:
      name: one of `KNOWN_PREPROCESSING`.

    Returns:
      ``preprocess(tensor_dict, is_training, convention='caffe_bgr', seed=None) -> tensor_dict``.

    Raises:
      ValueError: for an unknown name; the message lists the known ones.
    """
    if name not in _PREPROCESSING:
        raise ValueError('Unknown preprocessing %r; known preprocessing names: %s'
                         % (name, ', '.join(KNOWN_PREPROCESSING)))
    return _PREPROCESSING[name]
