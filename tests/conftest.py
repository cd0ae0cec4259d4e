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
