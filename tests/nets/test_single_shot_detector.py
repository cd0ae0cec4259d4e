"""The SSD detector around the net: its priors, its loss and decoding, and a thin SSD300 that learns."""
import numpy as np
import overfit_check
import pytest
import tensorflow.compat.v1 as tf
import winograd_check

from tf1zoo.nets import nets_factory, single_shot_detector, ssd_vgg_300
from tf1zoo.ops import anchor_generator, standard_fields

F = standard_fields.InputDataFields
THIN = 0.125


def _detector(**kwargs):
    return nets_factory.get_model_spec('ssd_vgg_300').build(num_classes=3, depth_multiplier=THIN,
                                                            **kwargs)


def test_priors_come_from_the_built_maps_in_caffe_order():
    expected = anchor_generator.MultiscaleAnchors(
        [anchor_generator.PriorBoxSpec(size, layer.min_size, layer.max_size, layer.aspect_ratios,
                                       True, layer.step)
         for size, layer in zip((38, 19, 10, 5, 3, 1), ssd_vgg_300.PRIOR_LAYERS)], 300).generate()
    for data_format in ('NHWC', 'NCHW'):
        with tf.Graph().as_default():
            predictions, _ = _detector(data_format=data_format).predict(
                tf.zeros([2, 300, 300, 3]), is_training=False)
            with tf.Session() as session:
                anchors = session.run(predictions[single_shot_detector.ANCHORS])
            assert predictions['box_encodings'].shape.as_list() == [2, 8732, 4]
            assert predictions['class_predictions_with_background'].shape.as_list() == [2, 8732, 3]
            np.testing.assert_array_equal(anchors, expected)


def test_thin_ssd300_overfits_two_images():
    first, last, out, groundtruth = overfit_check.train_on_two_images(_detector(), 300, steps=120)
    overfit_check.assert_learned(first, last, out, groundtruth)


@pytest.mark.parametrize('model_name', ['ssd_vgg_300', 'refinedet320'])
def test_winograd_body_restores_the_direct_nets_checkpoint_and_predicts_the_same(model_name, tmp_path):
    spec = nets_factory.get_model_spec(model_name)
    images = np.random.default_rng(0).uniform(-100, 100, (2, spec.image_size, spec.image_size, 3))
    (direct, direct_ops), (fast, fast_ops) = winograd_check.direct_and_winograd_predictions(
        spec, images, str(tmp_path / 'model'), skip_keys=('anchors',), num_classes=3,
        depth_multiplier=THIN)
    # Adaptive: F(6x6) on the larger maps, F(4x4) on the 19 x 19 ones (and fc6's dilated sub-images).
    assert 'BatchMatMulV2' in fast_ops and 'BatchMatMulV2' not in direct_ops
    # The strided and 1x1 convolutions stay direct.
    assert 0 < fast_ops.count('Conv2D') < direct_ops.count('Conv2D') - 13
    for key in direct:
        scale = np.abs(direct[key]).max()
        np.testing.assert_allclose(fast[key], direct[key], rtol=0, atol=1e-4 * scale)
