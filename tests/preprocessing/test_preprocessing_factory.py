"""Preprocessing factory, evaluation preprocessing and image conventions."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from tf1zoo.ops import image_conventions, standard_fields
from tf1zoo.preprocessing import preprocessing_factory

fields = standard_fields.InputDataFields

EXPECTED_SIZES = {'ssd_300': 300, 'ssd_300_no_expand': 300, 'ssd_300_whole_image': 300,
                  'ssd_512': 512, 'refinedet_320': 320, 'refinedet_320_no_expand': 320,
                  'refinedet_320_whole_image': 320, 'refinedet_512': 512, 'yolo_448': 448,
                  'yolo_448_hue': 448, 'yolo_448_whole_image': 448}
# R-FCN's keep the aspect ratio: the 21 x 34 example, shorter side 600 (longer at most 1000), 160
# (longer at most 267) or 320 (at most 533): 34 * 320 / 21 = 518.1.
EXPECTED_SHAPES = {'rfcn_600': (600, 971), 'rfcn_160': (160, 259), 'rfcn_320': (320, 518)}


def _example(height=21, width=34):
    rng = np.random.RandomState(0)
    return {
        fields.image: rng.randint(0, 256, (height, width, 3)).astype(np.uint8),
        fields.groundtruth_boxes: np.array([[0.1, 0.2, 0.6, 0.9], [0.0, 0.0, 1.0, 1.0]],
                                           np.float32),
        fields.groundtruth_classes: np.array([3, 15], np.int32),
        fields.groundtruth_difficult: np.array([False, True]),
        fields.source_id: b'000005',
    }


def _constant_dict(example):
    return {key: tf.constant(value) for key, value in example.items()}


@pytest.mark.parametrize('name', sorted(EXPECTED_SIZES))
@pytest.mark.parametrize('is_training', [True, False])
def test_factory_output_size(name, is_training):
    size = EXPECTED_SIZES[name]
    preprocess = preprocessing_factory.get_preprocessing(name)
    with tf.Graph().as_default(), tf.Session() as sess:
        result = preprocess(_constant_dict(_example()), is_training, seed=1)
        assert result[fields.image].shape.as_list() == [size, size, 3]
        values = sess.run(result)
    assert values[fields.image].shape == (size, size, 3)
    assert values[fields.image].dtype == np.float32
    assert values[fields.source_id] == b'000005'


def test_factory_lists_known_names_on_unknown():
    with pytest.raises(ValueError) as error:
        preprocessing_factory.get_preprocessing('ssd_301')
    for name in EXPECTED_SIZES:
        assert name in str(error.value)
    assert set(preprocessing_factory.KNOWN_PREPROCESSING) == set(EXPECTED_SIZES) | set(EXPECTED_SHAPES)


@pytest.mark.parametrize('name', sorted(EXPECTED_SHAPES))
@pytest.mark.parametrize('is_training', [True, False])
def test_rfcn_preprocessing_keeps_the_aspect_ratio(name, is_training):
    preprocess = preprocessing_factory.get_preprocessing(name)
    with tf.Graph().as_default(), tf.Session() as sess:
        values = sess.run(preprocess(_constant_dict(_example()), is_training, seed=1))
    assert values[fields.image].shape == EXPECTED_SHAPES[name] + (3,)
    assert values[fields.image].min() >= -1.0 and values[fields.image].max() <= 1.0  # inception_rgb


@pytest.mark.parametrize('convention, expected_pixel', [
    # RGB (200, 100, 50): BGR (50, 100, 200) minus the Caffe BGR mean (104, 117, 123).
    ('caffe_bgr', [-54.0, -17.0, 77.0]),
    # RGB minus slim's RGB mean (123.68, 116.78, 103.94).
    ('slim_rgb', [76.32, -16.78, -53.94]),
    # RGB / 127.5 - 1 (slim's inception_preprocessing).
    ('inception_rgb', [200 / 127.5 - 1, 100 / 127.5 - 1, 50 / 127.5 - 1]),
    # RGB / 255 (darknet's load_image_color).
    ('darknet_rgb', [200 / 255.0, 100 / 255.0, 50 / 255.0]),
])
def test_eval_preprocessing_warps_normalises_and_keeps_boxes(convention, expected_pixel):
    example = _example()
    example[fields.image] = np.tile(np.array([200, 100, 50], np.uint8), (21, 34, 1))
    preprocess = preprocessing_factory.get_preprocessing('ssd_300')
    with tf.Graph().as_default(), tf.Session() as sess:
        result = sess.run(preprocess(_constant_dict(example), False, convention=convention))
    assert result[fields.image].shape == (300, 300, 3)
    np.testing.assert_allclose(result[fields.image], np.broadcast_to(expected_pixel, (300, 300, 3)),
                               atol=1e-3)
    for key in (fields.groundtruth_boxes, fields.groundtruth_classes, fields.groundtruth_difficult):
        np.testing.assert_array_equal(result[key], example[key])


def test_training_preprocessing_runs_in_dataset_map():
    preprocess = preprocessing_factory.get_preprocessing('refinedet_320')
    with tf.Graph().as_default(), tf.Session() as sess:
        dataset = tf.data.Dataset.from_tensors(_example()).repeat(4)
        dataset = dataset.map(lambda tensor_dict: preprocess(tensor_dict, True, seed=3))
        next_element = tf.data.make_one_shot_iterator(dataset).get_next()
        for _ in range(4):
            result = sess.run(next_element)
            boxes = result[fields.groundtruth_boxes]
            assert result[fields.image].shape == (320, 320, 3)
            assert boxes.shape[0] == result[fields.groundtruth_classes].shape[0]
            assert np.all(boxes >= 0.0) and np.all(boxes <= 1.0)
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(next_element)


@pytest.mark.parametrize('name', ['ssd_300_whole_image', 'refinedet_320_whole_image'])
def test_whole_image_training_keeps_every_box_unclipped(name):
    # No zoom-out, no crop: each draw gives the input boxes, or their mirror image when flipped.
    example = _example()
    boxes = example[fields.groundtruth_boxes]
    mirrored = np.stack([boxes[:, 0], 1.0 - boxes[:, 3], boxes[:, 2], 1.0 - boxes[:, 1]], axis=1)
    preprocess = preprocessing_factory.get_preprocessing(name)
    flipped = []
    with tf.Graph().as_default(), tf.Session() as sess:
        result = preprocess(_constant_dict(example), True)
        for _ in range(16):
            values = sess.run(result)
            np.testing.assert_array_equal(values[fields.groundtruth_classes], [3, 15])
            out = values[fields.groundtruth_boxes]
            is_flipped = not np.allclose(out, boxes, atol=1e-6)
            np.testing.assert_allclose(out, mirrored if is_flipped else boxes, atol=1e-6)
            flipped.append(is_flipped)
    assert 0 < sum(flipped) < 16  # both branches seen (flip probability 0.5: 2 * 0.5 ** 16 to fail)


@pytest.mark.parametrize('convention', image_conventions.KNOWN_CONVENTIONS)
def test_normalize_then_denormalize_is_identity(convention):
    image = np.random.RandomState(1).uniform(0.0, 255.0, (5, 7, 3)).astype(np.float32)
    with tf.Graph().as_default(), tf.Session() as sess:
        normalized = image_conventions.normalize_image(image, convention)
        restored = sess.run(image_conventions.denormalize_image(normalized, convention))
    np.testing.assert_allclose(restored, image, atol=1e-4)


def test_caffe_bgr_reverses_channels_and_subtracts_bgr_mean():
    image = np.random.RandomState(2).randint(0, 256, (4, 6, 3)).astype(np.uint8)
    with tf.Graph().as_default(), tf.Session() as sess:
        caffe, slim = sess.run([image_conventions.normalize_image(image, 'caffe_bgr'),
                                image_conventions.normalize_image(image, 'slim_rgb')])
    np.testing.assert_allclose(caffe, image[..., ::-1] - np.array([104.0, 117.0, 123.0]),
                               atol=1e-4)
    np.testing.assert_allclose(slim, image - np.array([123.68, 116.78, 103.94]), atol=1e-4)


def test_mean_rgb_fill_normalises_to_zero():
    for convention in image_conventions.KNOWN_CONVENTIONS:
        with tf.Graph().as_default(), tf.Session() as sess:
            pixel = np.array(image_conventions.mean_rgb(convention), np.float32).reshape(1, 1, 3)
            normalized = sess.run(image_conventions.normalize_image(pixel, convention))
        np.testing.assert_allclose(normalized, 0.0, atol=1e-5)
    assert image_conventions.mean_rgb('caffe_bgr') == (123.0, 117.0, 104.0)


def test_unknown_convention_raises():
    with pytest.raises(ValueError, match='caffe_bgr, darknet_rgb, inception_rgb, slim_rgb'):
        image_conventions.normalize_image(np.zeros((1, 1, 3), np.float32), 'rgb')
    with pytest.raises(ValueError, match='known conventions'):
        image_conventions.mean_rgb('BGR')
