"""SSD augmentation stages: hand-computed cases, NumPy references and invariants over many draws."""
import hypothesis
import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from tf1zoo.ops import image_conventions, standard_fields
from tf1zoo.preprocessing import ssd_augmentation

fields = standard_fields.InputDataFields
FILL_RGB = (123.0, 117.0, 104.0)


def _placeholder_dict():
    """Placeholders for a decoded tensor dict with every per-object field and pass-through keys."""
    return {
        fields.image: tf.placeholder(tf.uint8, [None, None, 3]),
        fields.groundtruth_boxes: tf.placeholder(tf.float32, [None, 4]),
        fields.groundtruth_classes: tf.placeholder(tf.int32, [None]),
        fields.groundtruth_difficult: tf.placeholder(tf.bool, [None]),
        fields.groundtruth_truncated: tf.placeholder(tf.bool, [None]),
        fields.groundtruth_is_crowd: tf.placeholder(tf.bool, [None]),
        fields.num_groundtruth_boxes: tf.placeholder(tf.int32, []),
        fields.filename: tf.placeholder(tf.string, []),
    }


def _feed(placeholders, image, boxes, classes):
    """Flags derived from the class id, so that misaligned gathers are detectable."""
    classes = np.asarray(classes, np.int32)
    values = {
        fields.image: image,
        fields.groundtruth_boxes: np.asarray(boxes, np.float32).reshape(-1, 4),
        fields.groundtruth_classes: classes,
        fields.groundtruth_difficult: classes % 2 == 0,
        fields.groundtruth_truncated: classes % 3 == 0,
        fields.groundtruth_is_crowd: classes % 5 == 0,
        fields.num_groundtruth_boxes: len(classes),
        fields.filename: b'img.jpg',
    }
    return {placeholders[key]: value for key, value in values.items()}


def _random_boxes(rng, num_boxes):
    """Random valid boxes; about a third of the coordinates snapped to the image border."""
    corners = rng.uniform(0.0, 1.0, (num_boxes, 2, 2))
    corners = np.where(rng.uniform(size=corners.shape) < 0.3, np.round(corners), corners)
    low, high = corners.min(axis=1), corners.max(axis=1)
    high = np.maximum(high, low + 0.01)
    return np.clip(np.concatenate([low, high], axis=1), 0.0, 1.0).astype(np.float32)


def _numpy_iou(patch, boxes):
    """Caffe's JaccardOverlap for one patch against boxes [N, 4]."""
    inter_h = np.minimum(patch[2], boxes[:, 2]) - np.maximum(patch[0], boxes[:, 0])
    inter_w = np.minimum(patch[3], boxes[:, 3]) - np.maximum(patch[1], boxes[:, 1])
    inter = np.where((inter_h > 0) & (inter_w > 0), inter_h * inter_w, 0.0)
    area_p = (patch[2] - patch[0]) * (patch[3] - patch[1])
    area_b = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return np.where(inter > 0, inter / np.maximum(area_p + area_b - inter, 1e-12), 0.0)


def _check_invariants(result, num_input_boxes):
    boxes = result[fields.groundtruth_boxes]
    classes = result[fields.groundtruth_classes]
    assert boxes.shape == (len(classes), 4) and len(classes) <= num_input_boxes
    assert np.all(boxes >= 0.0) and np.all(boxes <= 1.0)
    assert np.all(boxes[:, 0] <= boxes[:, 2]) and np.all(boxes[:, 1] <= boxes[:, 3])
    np.testing.assert_array_equal(result[fields.groundtruth_difficult], classes % 2 == 0)
    np.testing.assert_array_equal(result[fields.groundtruth_truncated], classes % 3 == 0)
    np.testing.assert_array_equal(result[fields.groundtruth_is_crowd], classes % 5 == 0)
    assert result[fields.num_groundtruth_boxes] == len(classes)
    assert result[fields.filename] == b'img.jpg'


# ----------------------------------------------------------------------------------------------
# Photometric distortions.
# ----------------------------------------------------------------------------------------------

def test_distort_color_keeps_range_shape_and_grey():
    rng = np.random.RandomState(0)
    colour = rng.randint(0, 256, (12, 17, 3)).astype(np.uint8)
    grey = np.repeat(rng.randint(0, 256, (12, 17, 1)), 3, axis=2).astype(np.uint8)
    with tf.Graph().as_default(), tf.Session() as sess:
        image = tf.placeholder(tf.uint8, [None, None, 3])
        distorted = ssd_augmentation.distort_color(image, seed=7)
        changed = 0
        for _ in range(40):
            out = sess.run(distorted, {image: colour})
            assert out.shape == colour.shape and out.dtype == np.float32
            assert out.min() >= 0.0 and out.max() <= 255.0
            changed += not np.allclose(out, colour, atol=1e-3)
            # Hue and saturation leave a grey image grey; brightness and contrast act per pixel.
            out_grey = sess.run(distorted, {image: grey})
            np.testing.assert_allclose(out_grey[..., 0], out_grey[..., 1], atol=0.05)
            np.testing.assert_allclose(out_grey[..., 0], out_grey[..., 2], atol=0.05)
    # Each run leaves the image unchanged with probability 1/16.
    assert changed >= 20


# ----------------------------------------------------------------------------------------------
# Zoom out.
# ----------------------------------------------------------------------------------------------

def test_expand_hand_computed():
    image = np.arange(18, dtype=np.uint8).reshape(2, 3, 3)
    boxes = np.array([[0.0, 0.0, 1.0, 1.0], [0.5, 1.0 / 3, 1.0, 2.0 / 3]], np.float32)
    with tf.Graph().as_default(), tf.Session() as sess:
        tensor_dict = {fields.image: image, fields.groundtruth_boxes: boxes,
                       fields.filename: tf.constant('a')}
        result = sess.run(ssd_augmentation.expand(tensor_dict, ratio=2.0, offset=[1, 2],
                                                  fill_rgb=FILL_RGB))
    canvas = result[fields.image]
    # Canvas floor(2 * [2, 3]) = [4, 6]; the image occupies rows 1..2, columns 2..4.
    assert canvas.shape == (4, 6, 3) and canvas.dtype == np.float32
    np.testing.assert_array_equal(canvas[1:3, 2:5], image)
    mask = np.ones((4, 6), bool)
    mask[1:3, 2:5] = False
    np.testing.assert_array_equal(canvas[mask], np.tile(FILL_RGB, (mask.sum(), 1)))
    expected = [[1 / 4, 2 / 6, 3 / 4, 5 / 6], [2 / 4, 3 / 6, 3 / 4, 4 / 6]]
    np.testing.assert_allclose(result[fields.groundtruth_boxes], expected, atol=1e-6)
    assert result[fields.filename] == b'a'


def test_random_expand_boxes_locate_the_original_pixels():
    rng = np.random.RandomState(1)
    image = rng.randint(0, 256, (9, 13, 3)).astype(np.uint8)
    whole = np.array([[0.0, 0.0, 1.0, 1.0]], np.float32)
    sizes = set()
    with tf.Graph().as_default(), tf.Session() as sess:
        expanded = ssd_augmentation.random_expand(
            {fields.image: tf.constant(image), fields.groundtruth_boxes: tf.constant(whole)},
            FILL_RGB, seed=3)
        for _ in range(30):
            result = sess.run(expanded)
            canvas, box = result[fields.image], result[fields.groundtruth_boxes][0]
            height, width = canvas.shape[:2]
            assert 9 <= height < 36 and 13 <= width < 52
            top, left = int(round(box[0] * height)), int(round(box[1] * width))
            np.testing.assert_allclose(box[2:] * [height, width], [top + 9, left + 13], atol=1e-3)
            np.testing.assert_array_equal(canvas[top:top + 9, left:left + 13], image)
            assert canvas.astype(np.float64).sum() == pytest.approx(
                image.astype(np.float64).sum() + (height * width - 117) * sum(FILL_RGB))
            sizes.add((height, width))
    assert (9, 13) in sizes and len(sizes) > 2


# ----------------------------------------------------------------------------------------------
# Patch sampling and cropping.
# ----------------------------------------------------------------------------------------------

_HAND_BOXES = np.array([[0.0, 0.0, 0.5, 0.5], [0.5, 0.5, 1.0, 1.0]], np.float32)
_HAND_PATCHES = np.array([
    [0.0, 0.0, 0.5, 0.5],        # IoU 1 with box 0, 0 with box 1
    [0.0, 0.0, 1.0, 1.0],        # IoU 0.25 with both
    [0.25, 0.25, 0.75, 0.75],    # IoU 0.0625 / 0.4375 = 1/7 with both
    [0.6, 0.0, 0.9, 0.3],        # overlaps neither
], np.float32)


@pytest.mark.parametrize('min_iou, max_iou, expected', [
    (0.1, np.inf, [True, True, True, False]),
    (0.3, np.inf, [True, False, False, False]),
    (1.0 / 7 + 1e-4, 0.3, [False, True, False, False]),
    # Satisfied by any one box: patch 0 passes through box 1 (IoU 0 <= 0.2).
    (-np.inf, 0.2, [True, False, True, True]),
])
def test_satisfies_sample_constraint_hand_made(min_iou, max_iou, expected):
    with tf.Graph().as_default(), tf.Session() as sess:
        satisfied = sess.run(ssd_augmentation.satisfies_sample_constraint(
            _HAND_PATCHES, _HAND_BOXES, min_iou, max_iou))
    np.testing.assert_array_equal(satisfied, expected)


def test_satisfies_sample_constraint_without_boxes_is_false():
    with tf.Graph().as_default(), tf.Session() as sess:
        satisfied = sess.run(ssd_augmentation.satisfies_sample_constraint(
            _HAND_PATCHES, np.zeros((0, 4), np.float32), -np.inf, np.inf))
    np.testing.assert_array_equal(satisfied, [False] * 4)


_box_arrays = hnp.arrays(np.float32, st.tuples(st.integers(0, 6), st.just(4)),
                         elements=st.floats(0.0, 1.0, width=32))


@hypothesis.settings(max_examples=40, deadline=None)
@hypothesis.given(boxes=_box_arrays, patches=_box_arrays, min_iou=st.floats(0.0, 1.0),
                  max_iou=st.floats(0.0, 1.0))
def test_satisfies_sample_constraint_matches_caffe_loop(boxes, patches, min_iou, max_iou):
    boxes = np.concatenate([np.minimum(boxes[:, :2], boxes[:, 2:]),
                            np.maximum(boxes[:, :2], boxes[:, 2:])], axis=1)
    patches = np.concatenate([np.minimum(patches[:, :2], patches[:, 2:]),
                              np.maximum(patches[:, :2], patches[:, 2:])], axis=1)
    expected = [any(min_iou - 1e-5 <= iou <= max_iou + 1e-5 for iou in _numpy_iou(p, boxes))
                for p in patches]
    strict = [any(min_iou + 1e-5 <= iou <= max_iou - 1e-5 for iou in _numpy_iou(p, boxes))
              for p in patches]
    with tf.Graph().as_default(), tf.Session() as sess:
        satisfied = sess.run(ssd_augmentation.satisfies_sample_constraint(
            patches, boxes, min_iou, max_iou))
    # Within float tolerance of a bound either answer is right.
    assert np.all(satisfied <= np.array(expected, bool))
    assert np.all(satisfied >= np.array(strict, bool))


def test_sample_patch_meets_its_sampler():
    samplers = ssd_augmentation.SSD_BATCH_SAMPLERS
    rng = np.random.RandomState(2)
    chosen = set()
    with tf.Graph().as_default(), tf.Session() as sess:
        boxes_in = tf.placeholder(tf.float32, [None, 4])
        patch_op, index_op = ssd_augmentation.sample_patch(boxes_in, seed=11)
        for trial in range(150):
            boxes = _random_boxes(rng, trial % 4)
            patch, index = sess.run([patch_op, index_op], {boxes_in: boxes})
            assert index >= 0
            sampler = samplers[index]
            chosen.add(int(index))
            height, width = patch[2] - patch[0], patch[3] - patch[1]
            assert np.all(patch >= 0.0) and np.all(patch <= 1.0 + 1e-6)
            assert sampler.min_scale ** 2 - 1e-5 <= height * width <= sampler.max_scale ** 2 + 1e-5
            assert 0.5 - 1e-4 <= width / height <= 2.0 + 1e-4
            if len(boxes) == 0:
                assert index == 0  # no box can meet a constraint: only the whole image is left
            if index == 0:
                np.testing.assert_allclose(patch, [0.0, 0.0, 1.0, 1.0], atol=1e-6)
            iou = _numpy_iou(patch, boxes)
            if sampler.min_jaccard_overlap is not None:
                assert np.any(iou >= sampler.min_jaccard_overlap - 1e-5)
    assert len(chosen) >= 5


@pytest.mark.parametrize('scale, aspect_ratio, expected_height_width', [
    # SampleBBox clamps the aspect ratio to [scale^2, 1 / scale^2]:
    (0.9, 2.0, (0.81, 1.0)),   # 2 -> 1 / 0.81: width 0.9 * (1 / 0.9) = 1, height 0.9 * 0.9
    (0.8, 0.5, (1.0, 0.64)),   # 0.5 -> 0.64: width 0.8 * 0.8, height 0.8 / 0.8 = 1
    (0.5, 2.0, (0.5 / 2 ** 0.5, 0.5 * 2 ** 0.5)),  # within the clamp: unchanged
])
def test_sample_patch_clamps_aspect_ratio_like_caffe(scale, aspect_ratio, expected_height_width):
    sampler = ssd_augmentation.BatchSampler(scale, scale, aspect_ratio, aspect_ratio, None, None, 3)
    with tf.Graph().as_default(), tf.Session() as sess:
        patch, index = sess.run(ssd_augmentation.sample_patch(
            tf.zeros([0, 4]), samplers=[sampler], seed=4))
    assert index == 0
    np.testing.assert_allclose([patch[2] - patch[0], patch[3] - patch[1]], expected_height_width,
                               atol=1e-5)


def test_sample_patch_falls_back_to_whole_image():
    constrained_only = ssd_augmentation.SSD_BATCH_SAMPLERS[1:]
    with tf.Graph().as_default(), tf.Session() as sess:
        patch, index = sess.run(ssd_augmentation.sample_patch(
            tf.zeros([0, 4]), samplers=constrained_only, seed=1))
    np.testing.assert_array_equal(patch, [0.0, 0.0, 1.0, 1.0])
    assert index == -1


def test_crop_to_patch_hand_made():
    image = np.arange(8 * 8 * 3, dtype=np.int32).reshape(8, 8, 3).astype(np.uint8)
    boxes = np.array([
        [0.375, 0.375, 0.625, 0.625],  # centre inside            -> [0.25, 0.25, 0.75, 0.75]
        [0.625, 0.625, 1.0, 1.0],      # overlaps, centre outside -> dropped
        [0.125, 0.5, 0.5, 1.0],        # centre on the right edge -> kept, clipped [0, .5, .5, 1]
        [0.0, 0.0, 0.125, 0.125],      # outside                  -> dropped
        [0.5, 0.0, 1.0, 0.5],          # centre on a corner       -> kept, clipped [.5, 0, 1, .5]
        [0.5, 0.5, 0.5, 0.5],          # centre inside, no area   -> dropped (Caffe ProjectBBox)
    ], np.float32)
    classes = np.arange(1, 7, dtype=np.int32)
    with tf.Graph().as_default(), tf.Session() as sess:
        placeholders = _placeholder_dict()
        patch = tf.constant([0.25, 0.25, 0.75, 0.75])
        cropped = ssd_augmentation.crop_to_patch(placeholders, patch)
        result = sess.run(cropped, _feed(placeholders, image, boxes, classes))
    np.testing.assert_array_equal(result[fields.image], image[2:6, 2:6])
    expected = [[0.25, 0.25, 0.75, 0.75], [0.0, 0.5, 0.5, 1.0], [0.5, 0.0, 1.0, 0.5]]
    np.testing.assert_allclose(result[fields.groundtruth_boxes], expected, atol=1e-6)
    np.testing.assert_array_equal(result[fields.groundtruth_classes], [1, 3, 5])
    _check_invariants(result, len(boxes))


def test_crop_to_patch_rounds_to_pixels_like_caffe():
    image = np.random.RandomState(3).randint(0, 256, (10, 20, 3)).astype(np.uint8)
    whole = np.array([[0.0, 0.0, 1.0, 1.0]], np.float32)
    with tf.Graph().as_default(), tf.Session() as sess:
        result = sess.run(ssd_augmentation.crop_to_patch(
            {fields.image: image, fields.groundtruth_boxes: whole},
            tf.constant([0.16, 0.33, 0.87, 0.9])))
    # Rows: int(1.6) = 1, height int(8.7 - 1.6) = 7.
    # Columns: int(6.6) = 6, width int(18 - 6.6) = 11.
    np.testing.assert_array_equal(result[fields.image], image[1:8, 6:17])
    # The whole-image box projects to beyond the patch on every side and is clipped to it.
    np.testing.assert_allclose(result[fields.groundtruth_boxes], [[0.0, 0.0, 1.0, 1.0]])


# ----------------------------------------------------------------------------------------------
# Flip and resize.
# ----------------------------------------------------------------------------------------------

def test_flip_hand_computed():
    image = np.array([[[1, 1, 1], [2, 2, 2], [3, 3, 3]]], np.uint8)
    boxes = np.array([[0.1, 0.2, 0.5, 0.6], [0.0, 0.0, 1.0, 0.25]], np.float32)
    with tf.Graph().as_default(), tf.Session() as sess:
        result = sess.run(ssd_augmentation.flip(
            {fields.image: image, fields.groundtruth_boxes: boxes}))
    np.testing.assert_array_equal(result[fields.image][0, :, 0], [3, 2, 1])
    np.testing.assert_allclose(result[fields.groundtruth_boxes],
                               [[0.1, 0.4, 0.5, 0.8], [0.0, 0.75, 1.0, 1.0]], atol=1e-6)


def test_random_resize_shape_and_range():
    image = np.random.RandomState(4).choice([0, 255], (23, 31, 3)).astype(np.uint8)
    with tf.Graph().as_default(), tf.Session() as sess:
        resized = ssd_augmentation.random_resize({fields.image: tf.constant(image)}, (16, 40),
                                                 seed=5)[fields.image]
        assert resized.shape.as_list() == [16, 40, 3]
        for _ in range(20):
            out = sess.run(resized)
            # Sharp 0/255 edges make the cubic and Lanczos kernels overshoot before clipping.
            assert out.shape == (16, 40, 3) and out.min() >= 0.0 and out.max() <= 255.0


# ----------------------------------------------------------------------------------------------
# Composition.
# ----------------------------------------------------------------------------------------------

def _painted_scene(rng, height, width, num_boxes):
    """Disjoint boxes on a black image, each painted in a colour that encodes its class id."""
    image = np.zeros((height, width, 3), np.uint8)
    boxes, classes = [], []
    for class_id in range(1, num_boxes + 1):
        row = (class_id - 1) * height // num_boxes
        top, left = row + 1, rng.randint(0, width // 2)
        bottom, right = row + height // num_boxes - 1, rng.randint(width // 2 + 4, width + 1)
        image[top:bottom, left:right] = 40 * class_id
        boxes.append([top / height, left / width, bottom / height, right / width])
        classes.append(class_id)
    return image, np.array(boxes, np.float32), np.array(classes, np.int32)


def test_geometric_stages_keep_classes_with_their_boxes():
    rng = np.random.RandomState(5)
    with tf.Graph().as_default(), tf.Session() as sess:
        placeholders = _placeholder_dict()
        out = ssd_augmentation.random_expand(placeholders, (0.0, 0.0, 0.0), seed=1)
        out = ssd_augmentation.random_crop(out, seed=2)
        out = ssd_augmentation.random_flip(out, seed=3)
        out = ssd_augmentation.resize(out, 60, method='nearest')
        checked = 0
        for _ in range(60):
            image, boxes, classes = _painted_scene(rng, 60, 80, 4)
            result = sess.run(out, _feed(placeholders, image, boxes, classes))
            _check_invariants(result, len(boxes))
            for box, class_id in zip(result[fields.groundtruth_boxes] * 60,
                                     result[fields.groundtruth_classes]):
                if box[2] - box[0] >= 6 and box[3] - box[1] >= 6:
                    centre = result[fields.image][int((box[0] + box[2]) / 2),
                                                  int((box[1] + box[3]) / 2)]
                    np.testing.assert_array_equal(centre, [40 * class_id] * 3)
                    checked += 1
    assert checked > 50


def test_ssd_train_preprocess_invariants_over_random_inputs():
    rng = np.random.RandomState(6)
    with tf.Graph().as_default(), tf.Session() as sess:
        placeholders = _placeholder_dict()
        out = ssd_augmentation.ssd_train_preprocess(placeholders, (24, 32), 'caffe_bgr', seed=9)
        assert out[fields.image].shape.as_list() == [24, 32, 3]
        rgb = image_conventions.denormalize_image(out[fields.image], 'caffe_bgr')
        kept = 0
        for trial in range(60):
            num_boxes = trial % 5
            image = rng.randint(0, 256, (rng.randint(8, 40), rng.randint(8, 40), 3), np.uint8)
            classes = rng.randint(1, 21, num_boxes)
            result, pixels = sess.run([out, rgb], _feed(placeholders, image,
                                                        _random_boxes(rng, num_boxes), classes))
            assert result[fields.image].shape == (24, 32, 3)
            assert pixels.min() >= -1e-3 and pixels.max() <= 255.0 + 1e-3
            _check_invariants(result, num_boxes)
            assert set(result[fields.groundtruth_classes]) <= set(classes)
            kept += len(result[fields.groundtruth_classes])
    assert kept > 0


def test_ssd_train_preprocess_rejects_bad_arguments():
    with tf.Graph().as_default():
        placeholders = _placeholder_dict()
        with pytest.raises(ValueError, match='output_size'):
            ssd_augmentation.ssd_train_preprocess(placeholders, (300,), 'caffe_bgr')
        with pytest.raises(ValueError, match='caffe_bgr'):
            ssd_augmentation.ssd_train_preprocess(placeholders, 300, 'bgr')
        del placeholders[fields.groundtruth_boxes]
        with pytest.raises(ValueError, match=fields.groundtruth_boxes):
            ssd_augmentation.ssd_train_preprocess(placeholders, 300, 'caffe_bgr')
