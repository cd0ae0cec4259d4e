"""SSD data augmentation (Liu et al. 2016, sec. 2.2 and 3) as its Caffe release does it.

References below are to weiliu89/caffe, branch ``ssd``: the constants come from
``examples/ssd/ssd_pascal.py`` (``train_transform_param``, ``batch_sampler``), the procedures from
``src/caffe/util/im_transforms.cpp`` (``ApplyDistort``), ``src/caffe/data_transformer.cpp``
(``ExpandImage``, ``CropImage``, ``TransformAnnotation``), ``src/caffe/util/sampler.cpp``
(``SampleBBox``, ``SatisfySampleConstraint``, ``GenerateSamples``) and
``src/caffe/layers/annotated_data_layer.cpp`` (the order of the stages).

Every stage takes and returns a tensor dict keyed by `standard_fields.InputDataFields`:

* ``image``: ``[height, width, 3]`` RGB, uint8 or float with values in [0, 255]; the stages return
  float32 (the final stage, normalisation, gives the network input of an image convention).
* ``groundtruth_boxes``: float32 ``[num_boxes, 4]``, normalised ``[ymin, xmin, ymax, xmax]``.
* the other fields of `standard_fields.PER_OBJECT_FIELDS` that are present are gathered with the
  boxes whenever boxes are dropped, and ``num_groundtruth_boxes`` (if present) is recounted; every
  other key passes through untouched. ``num_boxes`` may be 0.

All stages are graph ops usable inside ``tf.data.Dataset.map``. ``seed`` arguments are optional op
seeds; each random op derives its own seed from it so that ops never share a random stream.
"""
import collections

import numpy as np
import tensorflow.compat.v1 as tf

from tf1zoo.ops import image_conventions, standard_fields

fields = standard_fields.InputDataFields

# Photometric distortions, ssd_pascal.py distort_param. Caffe applies them to uint8 BGR images.
BRIGHTNESS_PROB = 0.5
BRIGHTNESS_DELTA = 32.0  # added to every channel, uniform in [-32, 32]
CONTRAST_PROB = 0.5
CONTRAST_RANGE = (0.5, 1.5)  # AdjustContrast multiplies the pixels (convertTo(alpha=delta, beta=0))
SATURATION_PROB = 0.5
SATURATION_RANGE = (0.5, 1.5)  # multiplies the HSV saturation
HUE_PROB = 0.5
# hue_delta is 18 in OpenCV's 8-bit HSV, whose hue channel runs over [0, 180) (2 degrees a unit),
# so the shift is up to 36 degrees: 0.1 of the hue circle in tf.image.adjust_hue's units.
HUE_DELTA = 18.0 / 180.0
DISTORT_ORDER_PROB = 0.5  # ApplyDistort: prob > 0.5 -> B, C, S, H; otherwise B, S, H, C

# Zoom out, ssd_pascal.py expand_param.
EXPAND_PROB = 0.5
MAX_EXPAND_RATIO = 4.0

FLIP_PROB = 0.5  # data_transformer.cpp: do_mirror = mirror() && Rand(2)

# Caffe draws among LINEAR, AREA, NEAREST, CUBIC, LANCZOS4 (ssd_pascal.py interp_mode). TF has no
# Lanczos-4 kernel; Lanczos-3 stands in for it. Names are tf.image.resize (v2) method names.
_RESIZE = tf.compat.v2.image.ResizeMethod
RESIZE_METHODS = (_RESIZE.BILINEAR, _RESIZE.AREA, _RESIZE.NEAREST_NEIGHBOR, _RESIZE.BICUBIC,
                  _RESIZE.LANCZOS3)
EVAL_RESIZE_METHOD = _RESIZE.BILINEAR  # test_transform_param: interp_mode LINEAR

BatchSampler = collections.namedtuple('BatchSampler', [
    'min_scale', 'max_scale', 'min_aspect_ratio', 'max_aspect_ratio',
    'min_jaccard_overlap', 'max_jaccard_overlap', 'max_trials'])
BatchSampler.__doc__ = """One Caffe BatchSampler with max_sample 1.

A jaccard bound of None means the bound is absent; with both absent the sampler is unconstrained
(every trial is accepted, as SatisfySampleConstraint returns true without constraints).
"""


def _constrained_sampler(min_jaccard, max_jaccard=None):
    return BatchSampler(0.3, 1.0, 0.5, 2.0, min_jaccard, max_jaccard, 50)


# ssd_pascal.py batch_sampler: the whole image (Sampler defaults: scale and aspect ratio 1, one
# trial), then min jaccard 0.1 ... 0.9, then max jaccard 1.0; scale [0.3, 1], aspect [0.5, 2].
SSD_BATCH_SAMPLERS = (
    BatchSampler(1.0, 1.0, 1.0, 1.0, None, None, 1),
    _constrained_sampler(0.1),
    _constrained_sampler(0.3),
    _constrained_sampler(0.5),
    _constrained_sampler(0.7),
    _constrained_sampler(0.9),
    _constrained_sampler(None, 1.0),
)


def _op_seed(seed, salt):
    """A distinct op seed per (seed, salt); None stays None (non-deterministic)."""
    if seed is None:
        return None
    return (seed * 1000003 + salt) % (2 ** 31 - 1)


def _float_image(tensor_dict):
    return tf.cast(tensor_dict[fields.image], tf.float32)


def _groundtruth_boxes(tensor_dict):
    if fields.groundtruth_boxes not in tensor_dict:
        raise ValueError('SSD training augmentation needs %r in the tensor dict; keys present: %s'
                         % (fields.groundtruth_boxes, sorted(tensor_dict)))
    return tf.reshape(tf.cast(tensor_dict[fields.groundtruth_boxes], tf.float32), [-1, 4])


def _with_image_and_boxes(tensor_dict, image, boxes, keep=None):
    """A copy of `tensor_dict` with new image and boxes; `keep` [N] bool drops objects."""
    result = dict(tensor_dict)
    result[fields.image] = image
    result[fields.groundtruth_boxes] = boxes
    if keep is not None:
        for key in standard_fields.PER_OBJECT_FIELDS:
            if key in result:
                result[key] = tf.boolean_mask(result[key], keep)
        if fields.num_groundtruth_boxes in result:
            result[fields.num_groundtruth_boxes] = tf.shape(result[fields.groundtruth_boxes])[0]
    return result


def _with_probability(prob, seed):
    """A boolean scalar that is true with probability `prob`."""
    return tf.random.uniform([], seed=seed) < prob


def _clip_pixels(image):
    # Caffe's uint8 cv::Mat saturates to [0, 255] after every operation.
    return tf.clip_by_value(image, 0.0, 255.0)


# ---------------------------------------------------------------------------------------------
# 1. Photometric distortions (im_transforms.cpp: ApplyDistort and the Random* functions).
# ---------------------------------------------------------------------------------------------

def _random_brightness(image, seed):
    delta = tf.random.uniform([], -BRIGHTNESS_DELTA, BRIGHTNESS_DELTA, seed=_op_seed(seed, 1))
    return tf.cond(_with_probability(BRIGHTNESS_PROB, _op_seed(seed, 2)),
                   lambda: _clip_pixels(image + delta), lambda: image)


def _random_contrast(image, seed):
    factor = tf.random.uniform([], *CONTRAST_RANGE, seed=_op_seed(seed, 1))
    return tf.cond(_with_probability(CONTRAST_PROB, _op_seed(seed, 2)),
                   lambda: _clip_pixels(image * factor), lambda: image)


def _random_saturation(image, seed):
    factor = tf.random.uniform([], *SATURATION_RANGE, seed=_op_seed(seed, 1))
    return tf.cond(_with_probability(SATURATION_PROB, _op_seed(seed, 2)),
                   lambda: _clip_pixels(tf.image.adjust_saturation(image / 255.0, factor) * 255.0),
                   lambda: image)


def _random_hue(image, seed):
    delta = tf.random.uniform([], -HUE_DELTA, HUE_DELTA, seed=_op_seed(seed, 1))
    return tf.cond(_with_probability(HUE_PROB, _op_seed(seed, 2)),
                   lambda: _clip_pixels(tf.image.adjust_hue(image / 255.0, delta) * 255.0),
                   lambda: image)


def distort_color(image, seed=None):
    """Caffe's ApplyDistort on an RGB image; values stay in [0, 255].

    Brightness first, then either contrast, saturation, hue or saturation, hue, contrast (each
    order with probability 0.5); each distortion is applied with probability 0.5. Caffe's
    random channel reordering is off in ssd_pascal.py (random_order_prob 0) and is left out.

    Args:
      image: ``[height, width, 3]`` RGB, uint8 or float in [0, 255].
      seed: optional op seed.

    Returns:
      float32 ``[height, width, 3]`` RGB in [0, 255].
    """
    with tf.name_scope('distort_color'):
        image = _random_brightness(tf.cast(image, tf.float32), _op_seed(seed, 10))

        def contrast_first():
            image_c = _random_contrast(image, _op_seed(seed, 20))
            image_s = _random_saturation(image_c, _op_seed(seed, 30))
            return _random_hue(image_s, _op_seed(seed, 40))

        def contrast_last():
            image_s = _random_saturation(image, _op_seed(seed, 50))
            image_h = _random_hue(image_s, _op_seed(seed, 60))
            return _random_contrast(image_h, _op_seed(seed, 70))

        order_draw = tf.random.uniform([], seed=_op_seed(seed, 80))
        return tf.cond(order_draw > DISTORT_ORDER_PROB, contrast_first, contrast_last)


def distort(tensor_dict, seed=None):
    """`distort_color` on the dict's image; boxes and other keys unchanged."""
    result = dict(tensor_dict)
    result[fields.image] = distort_color(tensor_dict[fields.image], seed=seed)
    return result


# ---------------------------------------------------------------------------------------------
# 2. Zoom out (data_transformer.cpp: ExpandImage).
# ---------------------------------------------------------------------------------------------

def _expanded_size(image_size, ratio):
    """Caffe's canvas size: static_cast<int>(size * expand_ratio)."""
    return tf.cast(tf.floor(tf.cast(image_size, tf.float32) * ratio), tf.int32)


def _expand_image_and_boxes(image, boxes, ratio, offset, fill_rgb):
    image_size = tf.shape(image)[:2]
    canvas_size = _expanded_size(image_size, ratio)
    offset = tf.cast(offset, tf.int32)
    paddings = tf.stack([offset, canvas_size - image_size - offset], axis=1)
    # One pad per channel, so that the fill value is exact rather than (x - m) + m.
    channels = [tf.pad(image[:, :, c], paddings, constant_values=fill_rgb[c]) for c in range(3)]
    canvas = tf.stack(channels, axis=2)
    size_yxyx = tf.cast(tf.tile(image_size, [2]), tf.float32)
    offset_yxyx = tf.cast(tf.tile(offset, [2]), tf.float32)
    canvas_yxyx = tf.cast(tf.tile(canvas_size, [2]), tf.float32)
    return canvas, (boxes * size_yxyx + offset_yxyx) / canvas_yxyx


def expand(tensor_dict, ratio, offset, fill_rgb):
    """Places the image on a larger canvas filled with `fill_rgb` (zoom out).

    The canvas is ``floor(ratio * [height, width])`` pixels and the image's top-left corner lands at
    pixel ``offset``; the boxes are mapped exactly to the canvas.

    Args:
      tensor_dict: the tensor dict (image and groundtruth_boxes required).
      ratio: float scalar >= 1.
      offset: int ``[2]`` ``(y, x)`` pixels, each in ``[0, canvas - size]``.
      fill_rgb: three Python floats, the canvas colour (the convention's mean pixel).

    Returns:
      the tensor dict with a float32 canvas image and the mapped boxes.
    """
    with tf.name_scope('expand'):
        image, boxes = _expand_image_and_boxes(
            _float_image(tensor_dict), _groundtruth_boxes(tensor_dict), ratio, offset, fill_rgb)
        return _with_image_and_boxes(tensor_dict, image, boxes)


def random_expand(tensor_dict, fill_rgb, prob=EXPAND_PROB, max_ratio=MAX_EXPAND_RATIO, seed=None):
    """`expand` with probability `prob`, ratio uniform in [1, max_ratio], random offset."""
    with tf.name_scope('random_expand'):
        image = _float_image(tensor_dict)
        boxes = _groundtruth_boxes(tensor_dict)
        ratio = tf.random.uniform([], 1.0, max_ratio, seed=_op_seed(seed, 1))
        image_size = tf.shape(image)[:2]
        room = tf.cast(_expanded_size(image_size, ratio) - image_size, tf.float32)
        offset = tf.floor(tf.random.uniform([2], seed=_op_seed(seed, 2)) * room)
        image, boxes = tf.cond(
            _with_probability(prob, _op_seed(seed, 3)),
            lambda: _expand_image_and_boxes(image, boxes, ratio, offset, fill_rgb),
            lambda: (image, boxes))
        return _with_image_and_boxes(tensor_dict, image, boxes)


# ---------------------------------------------------------------------------------------------
# 3. Min-IoU patch sampling (sampler.cpp) and cropping (data_transformer.cpp: CropImage).
# ---------------------------------------------------------------------------------------------

def _pairwise_iou(patches, boxes):
    """IoU ``[P, N]`` of patches ``[P, 4]`` and boxes ``[N, 4]`` (bbox_util.cpp JaccardOverlap)."""
    p_ymin, p_xmin, p_ymax, p_xmax = tf.split(patches, 4, axis=1)
    b_ymin, b_xmin, b_ymax, b_xmax = tf.unstack(boxes, axis=1)
    inter_h = tf.minimum(p_ymax, b_ymax) - tf.maximum(p_ymin, b_ymin)
    inter_w = tf.minimum(p_xmax, b_xmax) - tf.maximum(p_xmin, b_xmin)
    intersection = tf.where((inter_h > 0) & (inter_w > 0), inter_h * inter_w,
                            tf.zeros_like(inter_h))
    patch_area = (p_ymax - p_ymin) * (p_xmax - p_xmin)
    box_area = tf.maximum(b_ymax - b_ymin, 0.0) * tf.maximum(b_xmax - b_xmin, 0.0)
    union = patch_area + box_area - intersection
    return tf.where(intersection > 0, intersection / tf.maximum(union, 1e-12),
                    tf.zeros_like(intersection))


def satisfies_sample_constraint(patches, boxes, min_jaccard_overlap, max_jaccard_overlap):
    """Caffe's SatisfySampleConstraint for jaccard bounds, vectorised over patches.

    A patch satisfies the constraint when at least one box has
    ``min_jaccard_overlap <= IoU <= max_jaccard_overlap``; with no boxes no patch does.

    Args:
      patches: float32 ``[P, 4]`` normalised ``[ymin, xmin, ymax, xmax]``.
      boxes: float32 ``[N, 4]`` normalised ``[ymin, xmin, ymax, xmax]``.
      min_jaccard_overlap, max_jaccard_overlap: float32 scalars or ``[P]`` (-inf / inf for an
        absent bound).

    Returns:
      bool ``[P]``.
    """
    iou = _pairwise_iou(tf.cast(patches, tf.float32), tf.cast(boxes, tf.float32))
    lower = tf.reshape(tf.cast(min_jaccard_overlap, tf.float32), [-1, 1])
    upper = tf.reshape(tf.cast(max_jaccard_overlap, tf.float32), [-1, 1])
    return tf.reduce_any((iou >= lower) & (iou <= upper), axis=1)


def _trial_table(samplers):
    """Constant columns with one row per trial of every sampler, for the vectorised sampler."""
    def column(value_of):
        return np.concatenate([np.full(s.max_trials, value_of(s), np.float32) for s in samplers])

    table = {
        'sampler_id': np.concatenate([np.full(s.max_trials, i, np.int32)
                                      for i, s in enumerate(samplers)]),
        'min_scale': column(lambda s: s.min_scale),
        'max_scale': column(lambda s: s.max_scale),
        'min_aspect': column(lambda s: s.min_aspect_ratio),
        'max_aspect': column(lambda s: s.max_aspect_ratio),
        'min_jaccard': column(lambda s: -np.inf if s.min_jaccard_overlap is None
                              else s.min_jaccard_overlap),
        'max_jaccard': column(lambda s: np.inf if s.max_jaccard_overlap is None
                              else s.max_jaccard_overlap),
        'unconstrained': column(lambda s: s.min_jaccard_overlap is None
                                and s.max_jaccard_overlap is None) > 0,
    }
    return {name: tf.constant(values) for name, values in table.items()}


def _sample_trial_patches(table, seed):
    """Caffe's SampleBBox for every trial at once: float32 ``[num_trials, 4]``."""
    draws = tf.random.uniform([tf.size(table['sampler_id']), 4], seed=seed)
    scale = table['min_scale'] + draws[:, 0] * (table['max_scale'] - table['min_scale'])
    aspect = table['min_aspect'] + draws[:, 1] * (table['max_aspect'] - table['min_aspect'])
    # SampleBBox clamps the aspect ratio to [scale^2, 1 / scale^2] so the patch fits in the image.
    aspect = tf.clip_by_value(aspect, tf.square(scale), 1.0 / tf.square(scale))
    width = tf.minimum(scale * tf.sqrt(aspect), 1.0)
    height = tf.minimum(scale / tf.sqrt(aspect), 1.0)
    xmin = draws[:, 2] * (1.0 - width)
    ymin = draws[:, 3] * (1.0 - height)
    return tf.stack([ymin, xmin, ymin + height, xmin + width], axis=1)


def sample_patch(boxes, samplers=SSD_BATCH_SAMPLERS, seed=None):
    """Caffe's GenerateBatchSamples with max_sample 1, then a uniform pick among the samples.

    All trials of all samplers are drawn at once and their IoUs computed as one matrix. Each
    sampler contributes its first accepted trial, if any; one of the contributed patches is picked
    uniformly. If none is (only possible with samplers lacking an unconstrained one and no boxes),
    the whole image is returned with sampler index -1.

    Args:
      boxes: float32 ``[N, 4]`` normalised ``[ymin, xmin, ymax, xmax]``; N may be 0.
      samplers: sequence of `BatchSampler`.
      seed: optional op seed.

    Returns:
      patch: float32 ``[4]`` normalised ``[ymin, xmin, ymax, xmax]``.
      sampler_index: int32 scalar, the index in `samplers` of the sampler that produced it.
    """
    with tf.name_scope('sample_patch'):
        boxes = tf.reshape(tf.cast(boxes, tf.float32), [-1, 4])
        table = _trial_table(samplers)
        num_trials = sum(sampler.max_trials for sampler in samplers)
        trials = _sample_trial_patches(table, _op_seed(seed, 1))
        accepted = satisfies_sample_constraint(
            trials, boxes, table['min_jaccard'], table['max_jaccard']) | table['unconstrained']
        trial_index = tf.where(accepted, tf.range(num_trials), tf.fill([num_trials], num_trials))
        first_accepted = tf.math.unsorted_segment_min(trial_index, table['sampler_id'],
                                                      len(samplers))
        candidates = tf.cast(tf.reshape(tf.where(first_accepted < num_trials), [-1]), tf.int32)
        pick = tf.random.uniform([], 0, tf.maximum(tf.size(candidates), 1), dtype=tf.int32,
                                 seed=_op_seed(seed, 2))
        whole_image = (tf.constant([0.0, 0.0, 1.0, 1.0]), tf.constant(-1))
        return tf.cond(
            tf.size(candidates) > 0,
            lambda: (tf.gather(trials, tf.gather(first_accepted, candidates[pick])),
                     candidates[pick]),
            lambda: whole_image)


def _pixel_patch(patch, image_size):
    """Caffe's CropImage rounding: clip the patch, scale to pixels, truncate to ints.

    Returns the int32 pixel offset ``[2]`` and extent ``[2]`` (at least one pixel).
    """
    size = tf.cast(image_size, tf.float32)
    patch = tf.clip_by_value(tf.cast(patch, tf.float32), 0.0, 1.0)
    start_px = patch[:2] * size
    offset = tf.minimum(tf.cast(tf.floor(start_px), tf.int32), image_size - 1)
    extent = tf.cast(tf.floor(patch[2:] * size - start_px), tf.int32)
    return offset, tf.clip_by_value(extent, 1, image_size - offset)


def crop_to_patch(tensor_dict, patch):
    """Crops to `patch`, keeping the boxes whose centres lie in it (Caffe emit_type CENTER).

    The patch is first rounded to whole pixels as Caffe's CropImage does; boxes are projected onto
    the rounded patch, so they match the cropped pixels exactly. A box is kept when its centre is
    inside the patch (borders included, MeetEmitConstraint) and its clipped projection has a
    positive area (ProjectBBox); kept boxes are clipped to [0, 1].

    Args:
      tensor_dict: the tensor dict (image and groundtruth_boxes required).
      patch: float32 ``[4]`` normalised ``[ymin, xmin, ymax, xmax]``.

    Returns:
      the tensor dict with the cropped float32 image and the kept, projected boxes.
    """
    with tf.name_scope('crop_to_patch'):
        image = _float_image(tensor_dict)
        boxes = _groundtruth_boxes(tensor_dict)
        image_size = tf.shape(image)[:2]
        offset, extent = _pixel_patch(patch, image_size)
        image = tf.slice(image, tf.concat([offset, [0]], 0), tf.concat([extent, [3]], 0))
        size = tf.cast(image_size, tf.float32)
        patch_min = tf.cast(offset, tf.float32) / size
        patch_max = tf.cast(offset + extent, tf.float32) / size
        centres = (boxes[:, :2] + boxes[:, 2:]) / 2.0
        centre_inside = tf.reduce_all((centres >= patch_min) & (centres <= patch_max), axis=1)
        patch_min_yxyx = tf.tile(patch_min, [2])
        patch_size_yxyx = tf.tile(patch_max - patch_min, [2])
        projected = tf.clip_by_value((boxes - patch_min_yxyx) / patch_size_yxyx, 0.0, 1.0)
        positive_area = tf.reduce_all(projected[:, 2:] > projected[:, :2], axis=1)
        return _with_image_and_boxes(tensor_dict, image, projected,
                                     keep=centre_inside & positive_area)


def random_crop(tensor_dict, samplers=SSD_BATCH_SAMPLERS, seed=None):
    """`sample_patch` on the dict's boxes, then `crop_to_patch`."""
    patch, _ = sample_patch(_groundtruth_boxes(tensor_dict), samplers, seed=seed)
    return crop_to_patch(tensor_dict, patch)


# ---------------------------------------------------------------------------------------------
# 4. Horizontal flip and 5. resize (data_transformer.cpp: Transform, TransformAnnotation).
# ---------------------------------------------------------------------------------------------

def _flip_image_and_boxes(image, boxes):
    ymin, xmin, ymax, xmax = tf.unstack(boxes, axis=1)
    return tf.reverse(image, axis=[1]), tf.stack([ymin, 1.0 - xmax, ymax, 1.0 - xmin], axis=1)


def flip(tensor_dict):
    """Mirrors the image left-right and the boxes with it (xmin' = 1 - xmax, xmax' = 1 - xmin)."""
    with tf.name_scope('flip'):
        image, boxes = _flip_image_and_boxes(_float_image(tensor_dict),
                                             _groundtruth_boxes(tensor_dict))
        return _with_image_and_boxes(tensor_dict, image, boxes)


def random_flip(tensor_dict, prob=FLIP_PROB, seed=None):
    """`flip` with probability `prob`."""
    with tf.name_scope('random_flip'):
        image = _float_image(tensor_dict)
        boxes = _groundtruth_boxes(tensor_dict)
        image, boxes = tf.cond(_with_probability(prob, seed),
                               lambda: _flip_image_and_boxes(image, boxes),
                               lambda: (image, boxes))
        return _with_image_and_boxes(tensor_dict, image, boxes)


def _output_height_width(output_size):
    if isinstance(output_size, int):
        output_size = (output_size, output_size)
    if len(output_size) != 2 or not all(isinstance(s, int) and s > 0 for s in output_size):
        raise ValueError('output_size must be a positive int or a (height, width) pair of positive '
                         'ints, got %r' % (output_size,))
    return tuple(output_size)


def _resize_image(image, output_size, method):
    height, width = _output_height_width(output_size)
    resized = tf.compat.v2.image.resize(tf.cast(image, tf.float32), [height, width], method=method)
    # Cubic and Lanczos kernels overshoot; Caffe's uint8 result saturates instead.
    resized = _clip_pixels(resized)
    resized.set_shape([height, width, 3])
    return resized


def resize(tensor_dict, output_size, method=EVAL_RESIZE_METHOD):
    """Warps the image to `output_size` (aspect ratio not kept, Caffe's WARP); boxes unchanged.

    Args:
      tensor_dict: the tensor dict (image required).
      output_size: int or ``(height, width)``.
      method: a `tf.image.resize` (v2) method name, e.g. 'bilinear'.

    Returns:
      the tensor dict with a float32 ``[height, width, 3]`` image in [0, 255].
    """
    result = dict(tensor_dict)
    result[fields.image] = _resize_image(tensor_dict[fields.image], output_size, method)
    return result


def random_resize(tensor_dict, output_size, seed=None):
    """`resize` with a method drawn uniformly from `RESIZE_METHODS`."""
    with tf.name_scope('random_resize'):
        image = tensor_dict[fields.image]
        choice = tf.random.uniform([], 0, len(RESIZE_METHODS), dtype=tf.int32, seed=seed)
        branches = [lambda m=method: _resize_image(image, output_size, m)
                    for method in RESIZE_METHODS]
        resized = tf.switch_case(choice, branches)
        resized.set_shape(_output_height_width(output_size) + (3,))
        result = dict(tensor_dict)
        result[fields.image] = resized
        return result


def _normalize(tensor_dict, convention):
    result = dict(tensor_dict)
    result[fields.image] = image_conventions.normalize_image(tensor_dict[fields.image], convention)
    return result


# ---------------------------------------------------------------------------------------------
# Composition.
# ---------------------------------------------------------------------------------------------

def ssd_train_preprocess(tensor_dict, output_size, convention, seed=None, expand_prob=EXPAND_PROB,
                         samplers=SSD_BATCH_SAMPLERS):
    """The SSD training pipeline: distort, expand, sample and crop, flip, resize, normalise.

    Args:
      tensor_dict: decoded tensor dict (uint8 RGB image, groundtruth_boxes, per-object fields).
      output_size: int or ``(height, width)``, e.g. 300 for SSD300, 320 for RefineDet320.
      convention: an `image_conventions` name; also gives the zoom-out fill colour.
      seed: optional op seed.
      expand_prob: probability of the zoom-out; 0 turns it off for short schedules (the SSD paper,
        sec. 3.6: the zoom-out adds 2-3 mAP but needs twice the training iterations).
      samplers: the crop's `BatchSampler`s; ``SSD_BATCH_SAMPLERS[:1]`` (the whole image) turns the
        crop off.

    Returns:
      the tensor dict with a float32 ``[out_height, out_width, 3]`` network input and the
      surviving objects.
    """
    _output_height_width(output_size)
    fill_rgb = image_conventions.mean_rgb(convention)
    with tf.name_scope('ssd_train_preprocess'):
        result = distort(tensor_dict, seed=_op_seed(seed, 101))
        result = random_expand(result, fill_rgb, prob=expand_prob, seed=_op_seed(seed, 102))
        result = random_crop(result, samplers=samplers, seed=_op_seed(seed, 103))
        result = random_flip(result, seed=_op_seed(seed, 104))
        result = random_resize(result, output_size, seed=_op_seed(seed, 105))
        return _normalize(result, convention)


def ssd_eval_preprocess(tensor_dict, output_size, convention):
    """Evaluation: bilinear warp to `output_size` and normalisation; boxes unchanged.

    Returns:
      the tensor dict with a float32 ``[out_height, out_width, 3]`` network input.
    """
    image_conventions.mean_rgb(convention)
    with tf.name_scope('ssd_eval_preprocess'):
        return _normalize(resize(tensor_dict, output_size, EVAL_RESIZE_METHOD), convention)
