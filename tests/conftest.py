"""pytest set-up: the TF 2.21 graph-mode shim runs before any test imports TensorFlow."""
import pathlib

import pytest
from hypothesis import HealthCheck, settings

from tf1zoo.ops import compat  # noqa: F401

# CI runs on 2 shared cores: no per-example deadline and no 'too slow' health check (both fail
# spuriously under load), and derandomized examples so that a CI failure reproduces.
settings.register_profile('ci', deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile('ci')

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_CAFFE_DIR = REPO_ROOT.parent / 'shared' / 'reference' / 'caffe'


@pytest.fixture(scope='session')
def caffe_reference_dir():
    """The official deploy prototxts beside the checkout; tests skip where they are absent."""
    if not SHARED_CAFFE_DIR.is_dir():
        pytest.skip('../shared/reference/caffe is absent')
    return SHARED_CAFFE_DIR


@pytest.fixture(scope='session')
def random_inception_checkpoint(tmp_path_factory):
    """A tf-slim InceptionV3 checkpoint with random weights in the published layout (1001 classes,
    auxiliary logits), written once per test session."""
    import tensorflow.compat.v1 as tf
    import tf_slim as slim
    from tf_slim.nets import inception_v3
    prefix = str(tmp_path_factory.mktemp('inception') / 'inception_v3.ckpt')
    with tf.Graph().as_default():
        tf.set_random_seed(0)
        with slim.arg_scope(inception_v3.inception_v3_arg_scope()):
            inception_v3.inception_v3(tf.zeros([1, 299, 299, 3]), num_classes=1001, is_training=False)
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            tf.train.Saver().save(session, prefix, write_meta_graph=False)
    return prefix
