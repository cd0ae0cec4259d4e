"""--winograd choices per model: 'auto' leaves a model without Winograd convolutions (R-FCN) on TF's."""
from unittest import mock

from tf1zoo.engine import inference
from tf1zoo.ops import winograd


def test_auto_is_adaptive_on_a_onednn_cpu_except_for_a_model_without_winograd():
    with mock.patch.object(inference.compat, 'onednn_enabled', return_value=True), \
            mock.patch.object(inference.tf.config, 'list_physical_devices', return_value=[]):
        assert inference.winograd_tile_size('auto') == winograd.ADAPTIVE
        assert inference.winograd_tile_size('auto', 'ssd_vgg_300') == winograd.ADAPTIVE
        assert inference.winograd_tile_size('auto', 'rfcn_inception_resnet') is None
        assert inference.DetectionOptions().keywords('rfcn_inception_resnet')['winograd_tile_size'] is None
    # An explicit choice stays as asked (R-FCN's build then refuses it by name).
    assert inference.winograd_tile_size('4', 'rfcn_inception_resnet') == 4


def test_evaluation_resizes_as_the_training_preprocessing_did():
    """R-FCN trained at a shorter side of 160 (its JSON's preprocessing_name) is evaluated at 160,
    not at the model's default 600; a JSON without one (converted weights) gets the default."""
    import numpy as np
    import tensorflow.compat.v1 as tf

    from tf1zoo.ops import standard_fields

    fields = standard_fields.InputDataFields
    settings = {'model_name': 'rfcn_inception_resnet', 'input_convention': 'inception_rgb'}
    shapes = []
    for recorded in ({'preprocessing_name': 'rfcn_160'}, {}):
        with tf.Graph().as_default():
            image = tf.constant(np.zeros([240, 320, 3], np.uint8))
            output = inference.eval_preprocess_fn(dict(settings, **recorded))(
                {fields.image: image, fields.groundtruth_boxes: tf.zeros([0, 4])})
            with tf.Session() as session:
                shapes.append(tuple(session.run(tf.shape(output[fields.image]))))
    assert shapes == [(160, 213, 3), (600, 800, 3)]
