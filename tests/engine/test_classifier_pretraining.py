"""The paper's pretraining stage on object crops: the crops and labels, the net's names, the hand-over."""
import glob
import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from tf1zoo.datasets import synthetic_shapes
from tf1zoo.engine import classifier_pretraining, tfrecord_conversion, train_loop
from tf1zoo.nets import nets_factory, yolo_v1
from tf1zoo.ops import standard_fields

fields = standard_fields.InputDataFields
COLOUR = (200, 40, 90)


def _example():
    image = np.zeros((100, 200, 3), np.uint8)
    image[20:60, 50:150] = COLOUR          # the first object's pixels: rows 20-59, columns 50-149
    return {fields.image: tf.constant(image),
            fields.groundtruth_boxes: tf.constant([[0.2, 0.25, 0.6, 0.75], [0.0, 0.0, 0.5, 0.5]]),
            fields.groundtruth_classes: tf.constant([3, 5], tf.int64),
            fields.groundtruth_difficult: tf.constant([False, True])}


def test_crops_are_the_non_difficult_objects_with_context_and_0_based_labels():
    with tf.Graph().as_default(), tf.Session() as session:
        dataset = classifier_pretraining.object_crops(_example(), 10, 'darknet_rgb', is_training=False)
        element = tf.data.make_one_shot_iterator(dataset.batch(5)).get_next()
        values = session.run(element)
    crops, labels = values[classifier_pretraining.CROPS], values[classifier_pretraining.LABELS]
    np.testing.assert_array_equal(labels, [2])          # class 3 -> 2; the difficult one left out
    assert crops.shape == (1, 10, 10, 3)
    # 10% context on each side of a 40 x 100 box: 48 x 120 pixels, the object's 40 x 100 in the
    # middle: 10 samples over rows 15.8-63.4 put rows 1-8 inside it and rows 0 and 9 outside.
    np.testing.assert_allclose(crops[0, 2:8, 2:8], np.broadcast_to(np.array(COLOUR) / 255.0, (6, 6, 3)),
                               atol=1e-5)
    assert crops[0, 0, 0].max() < np.array(COLOUR).max() / 255.0


def test_classifier_is_the_detectors_first_20_convolutions_then_avgpool_and_fc():
    layers = yolo_v1.yolo_v1_classifier_layers(6)
    detector_layers = yolo_v1.yolo_v1_layers(6)
    assert layers[:-2] == detector_layers[:len(layers) - 2]
    assert sum(1 for layer in layers if type(layer).__name__ == 'Convolutional') == 20
    config = classifier_pretraining.PretrainingConfig(num_classes=6, depth_multiplier=1 / 16,
                                                      batch_norm=True, crop_size=64)
    with tf.Graph().as_default():
        logits = classifier_pretraining.classifier_logits(tf.zeros([2, 64, 64, 3]), config, True)
        assert logits.shape.as_list() == [2, 6]
        classifier = {v.op.name: v.shape.as_list() for v in tf.global_variables()}
    with tf.Graph().as_default():
        detector = nets_factory.get_model_spec('yolo_v1').build(7, depth_multiplier=1 / 16,
                                                                batch_norm=True)
        detector.predict(tf.zeros([1, 448, 448, 3]), is_training=True)
        detector_variables = {v.op.name: v.shape.as_list() for v in tf.global_variables()}
    shared = {name: shape for name, shape in classifier.items() if not name.startswith('yolo_v1/fc1')}
    assert len(shared) == 20 * 5  # weights, beta, gamma, moving mean and variance per convolution
    for name, shape in shared.items():
        assert detector_variables[name] == shape, name
    rest = set(detector_variables) - set(shared)
    assert rest and all(name.startswith(yolo_v1.HEAD_SCOPES) for name in rest)


@pytest.fixture(scope='module')
def trainval_records(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('pretrain'))
    synthetic_shapes.generate(os.path.join(root, 'data'), num_train=3, num_val=1, num_test=1, seed=5,
                              num_workers=1, show_progress=False)
    records = os.path.join(root, 'records')
    tfrecord_conversion.convert_named('shapes', 'trainval', records,
                                      voc_dir=os.path.join(root, 'data', 'VOCshapes'), num_shards=1,
                                      show_progress=False)
    return sorted(glob.glob(os.path.join(records, '*_trainval-*.tfrecord')))


def test_pretraining_trains_and_initialises_the_detector(trainval_records, tmp_path):
    files = trainval_records
    config = classifier_pretraining.PretrainingConfig(num_classes=6, depth_multiplier=1 / 16,
                                                      batch_norm=True, crop_size=32)
    train = train_loop.TrainConfig(train_dir=str(tmp_path / 'pretrain'), max_steps=2, batch_size=4,
                                   optimizer='adam', show_progress=False)
    assert classifier_pretraining.pretrain_classifier(files, config, train) == 2
    prefix = tf.train.latest_checkpoint(str(tmp_path / 'pretrain'))
    reader = tf.train.load_checkpoint(prefix)
    with tf.Graph().as_default():
        detector = nets_factory.get_model_spec('yolo_v1').build(7, depth_multiplier=1 / 16,
                                                                batch_norm=True)
        detector.predict(tf.zeros([1, 448, 448, 3]), is_training=False)
        init_fn = train_loop.checkpoint_init_fn(prefix, exclude_scopes=yolo_v1.HEAD_SCOPES)
        conv20, = [v for v in tf.global_variables() if v.op.name == 'yolo_v1/conv20/weights']
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            init_fn(None, session)
            np.testing.assert_array_equal(session.run(conv20),
                                          reader.get_tensor('yolo_v1/conv20/weights'))
