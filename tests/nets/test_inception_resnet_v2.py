"""nets/inception_resnet_v2.py: slim's published variable names and shapes, end point sizes, the
dilated output strides, and the same function as tf_keras' InceptionResNetV2 (an independent
implementation of the same net, ported from slim) given the same weights."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tf_slim as slim

from tf1zoo.nets import inception_resnet_v2 as irv2

THIN = dict(depth_multiplier=1 / 16, repeats=(1, 1, 1))


def _base(inputs, **kwargs):
    with slim.arg_scope(irv2.inception_resnet_v2_arg_scope(is_training=False)):
        return irv2.inception_resnet_v2_base(inputs, **kwargs)


# Names and shapes as in inception_resnet_v2_2016_08_30.ckpt (slim's model zoo), the body's...
PUBLISHED_BODY = {
    'InceptionResnetV2/Conv2d_1a_3x3/weights': [3, 3, 3, 32],
    'InceptionResnetV2/Conv2d_1a_3x3/BatchNorm/beta': [32],
    'InceptionResnetV2/Mixed_5b/Branch_1/Conv2d_0b_5x5/weights': [5, 5, 48, 64],
    'InceptionResnetV2/Mixed_5b/Branch_3/Conv2d_0b_1x1/BatchNorm/moving_variance': [64],
    'InceptionResnetV2/Repeat/block35_10/Conv2d_1x1/weights': [1, 1, 128, 320],
    'InceptionResnetV2/Repeat/block35_10/Conv2d_1x1/biases': [320],
    'InceptionResnetV2/Mixed_6a/Branch_1/Conv2d_1a_3x3/weights': [3, 3, 256, 384],
    'InceptionResnetV2/Repeat_1/block17_20/Branch_1/Conv2d_0c_7x1/weights': [7, 1, 160, 192],
    'InceptionResnetV2/Mixed_7a/Branch_2/Conv2d_1a_3x3/weights': [3, 3, 288, 320],
    'InceptionResnetV2/Repeat_2/block8_9/Branch_1/Conv2d_0b_1x3/weights': [1, 3, 192, 224],
    'InceptionResnetV2/Block8/Conv2d_1x1/weights': [1, 1, 448, 2080],
    'InceptionResnetV2/Conv2d_7b_1x1/weights': [1, 1, 2080, 1536],
}
# ... and the heads'.
PUBLISHED_HEADS = {
    'InceptionResnetV2/AuxLogits/Conv2d_1b_1x1/weights': [1, 1, 1088, 128],
    'InceptionResnetV2/AuxLogits/Conv2d_2a_5x5/weights': [5, 5, 128, 768],
    'InceptionResnetV2/AuxLogits/Logits/weights': [768, 1001],
    'InceptionResnetV2/Logits/Logits/weights': [1536, 1001],
    'InceptionResnetV2/Logits/Logits/biases': [1001],
}


def test_the_classifier_heads_and_end_point_sizes():
    with tf.Graph().as_default():  # one block of each kind: the heads' shapes do not depend on more
        with slim.arg_scope(irv2.inception_resnet_v2_arg_scope()):
            logits, end_points = irv2.inception_resnet_v2(tf.zeros([1, 299, 299, 3]), is_training=False,
                                                          repeats=(1, 1, 1))
        shapes = {v.op.name: v.shape.as_list() for v in tf.global_variables()}
    assert logits.shape.as_list() == [1, 1001] and end_points['AuxLogits'].shape.as_list() == [1, 1001]
    sizes = {name: end_points[name].shape.as_list()[1:] for name in
             ('Conv2d_1a_3x3', 'MaxPool_5a_3x3', 'Mixed_5b', 'Mixed_6a', 'Mixed_7a', 'Conv2d_7b_1x1')}
    assert sizes == {'Conv2d_1a_3x3': [149, 149, 32], 'MaxPool_5a_3x3': [35, 35, 192],
                     'Mixed_5b': [35, 35, 320], 'Mixed_6a': [17, 17, 1088], 'Mixed_7a': [8, 8, 2080],
                     'Conv2d_7b_1x1': [8, 8, 1536]}
    assert {name: shapes.get(name) for name in PUBLISHED_HEADS} == PUBLISHED_HEADS
    assert not [name for name in shapes if name.endswith('gamma')]          # scale=False


@pytest.mark.parametrize('output_stride', [32, 16, 8])
def test_output_stride_by_dilation_keeps_every_variable(output_stride):
    with tf.Graph().as_default():
        net, end_points = _base(tf.zeros([1, 96, 128, 3]), output_stride=output_stride,
                                align_feature_maps=True, **THIN)
        names = sorted(v.op.name for v in tf.global_variables())
    assert net.shape.as_list()[1:3] == [96 // output_stride, 128 // output_stride]
    assert end_points['PreAuxLogits'].shape.as_list()[1:3] == [96 // min(output_stride, 16),
                                                              128 // min(output_stride, 16)]
    with tf.Graph().as_default():
        _base(tf.zeros([1, 96, 128, 3]), align_feature_maps=True, **THIN)
        assert names == sorted(v.op.name for v in tf.global_variables())


def test_final_endpoint_stops_early_and_bad_arguments_are_named():
    with tf.Graph().as_default():
        net, end_points = _base(tf.zeros([1, 64, 64, 3]), final_endpoint='PreAuxLogits',
                                align_feature_maps=True, **THIN)
        assert net is end_points['PreAuxLogits'] and 'Mixed_7a' not in end_points
        assert not [v for v in tf.global_variables() if 'Mixed_7a' in v.op.name]
        with pytest.raises(ValueError, match='output_stride must be 8, 16 or 32'):
            _base(tf.zeros([1, 64, 64, 3]), output_stride=4)
        with pytest.raises(ValueError, match="unknown final_endpoint 'Mixed_9z'"):
            _base(tf.zeros([1, 64, 64, 3]), final_endpoint='Mixed_9z')


def _load(session, variables, values):
    """All values at once, fed to the initialisers (Variable.load adds ops per call: minutes here)."""
    session.run([variable.initializer for variable in variables],
                {variable.initial_value: value for variable, value in zip(variables, values)})


def test_same_function_as_tf_keras_inception_resnet_v2():
    tf_keras = pytest.importorskip('tf_keras')
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (2, 75, 75, 3)).astype(np.float32)
    with tf.Graph().as_default():
        model = tf_keras.applications.InceptionResNetV2(weights=None, include_top=False,
                                                        input_shape=(75, 75, 3))
        outputs = model(tf.constant(images), training=False)
        keras_variables = tf.global_variables()  # creation order, as ours (model.weights is not)
        weights = []
        for variable in keras_variables:
            shape = variable.shape.as_list()
            if 'moving_variance' in variable.name:  # random statistics, so that they are tested
                weights.append(rng.uniform(0.5, 2.0, shape))
            elif 'kernel' in variable.name:
                weights.append(rng.normal(0, np.sqrt(2.0 / np.prod(shape[:-1])), shape))
            else:  # biases, beta, moving_mean
                weights.append(rng.normal(0, 0.1, shape))
        weights = [value.astype(np.float32) for value in weights]
        with tf.Session() as session:
            _load(session, keras_variables, weights)
            expected = session.run(outputs)
    with tf.Graph().as_default():
        net, _ = _base(tf.constant(images))
        variables = tf.global_variables()
        assert [v.shape.as_list() for v in variables] == [list(w.shape) for w in weights]
        shapes = {v.op.name: v.shape.as_list() for v in variables}
        assert {name: shapes.get(name) for name in PUBLISHED_BODY} == PUBLISHED_BODY
        assert 'InceptionResnetV2/Repeat_2/block8_10/Conv2d_1x1/weights' not in shapes  # 9 + Block8
        # Keras' InceptionResNetV2 without aux logits, 1000 classes: 55,873,736 parameters (with the
        # moving statistics); without its 1536 x 1000 classifier, 54,336,736.
        assert sum(int(np.prod(shape)) for shape in shapes.values()) == 55873736 - 1537000
        with tf.Session() as session:
            _load(session, variables, weights)
            ours = session.run(net)
    assert ours.shape == expected.shape == (2, 1, 1, 1536)
    np.testing.assert_allclose(ours, expected, rtol=1e-3, atol=1e-3 * np.abs(expected).max())
