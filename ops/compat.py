"""TensorFlow 2.21 set-up for TF1-style graph mode; import before TensorFlow.

Every entry point (scripts, tests, the package ``__init__`` files) imports this
module first. It does three things, all of which must happen before the first
``import tensorflow``:

* ``TF_USE_LEGACY_KERAS=1``: tf-slim's ``batch_norm`` and ``tf.compat.v1.layers``
  are built on Keras 2 layers, which TF 2.21 only provides through tf-keras.
* TF 2.21 imports ``tf_keras.legacy_tf_layers`` while tf-keras 2.21 ships it as
  ``tf_keras.src.legacy_tf_layers``; the modules are aliased under the old name.
* Graph mode: eager execution is disabled (sessions, ``variable_scope``).
"""
import importlib
import os
import sys

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

_LEGACY_LAYERS = 'tf_keras.legacy_tf_layers'
_LEGACY_SUBMODULES = ('base', 'core', 'convolutional', 'normalization', 'pooling',
                      'variable_scope_shim', 'migration_utils')


def _alias_legacy_tf_layers():
    try:
        importlib.import_module(_LEGACY_LAYERS)
        return
    except ImportError:
        pass
    source = 'tf_keras.src.legacy_tf_layers'
    sys.modules[_LEGACY_LAYERS] = importlib.import_module(source)
    for name in _LEGACY_SUBMODULES:
        try:
            module = importlib.import_module(source + '.' + name)
        except ImportError:
            continue
        sys.modules[_LEGACY_LAYERS + '.' + name] = module


_alias_legacy_tf_layers()

import tensorflow.compat.v1 as tf  # noqa: E402  (must follow the set-up above)

tf.disable_eager_execution()
tf.logging.set_verbosity(tf.logging.ERROR)


def onednn_enabled():
    """Whether TF runs oneDNN's CPU kernels in this process (``TF_ENABLE_ONEDNN_OPTS=1``, or TF's own
    default on CPUs with AVX-512 VNNI / AMX); decided when TensorFlow loads."""
    try:
        from tensorflow.python.util import _pywrap_util_port  # TF's own switch, not public API
        return bool(_pywrap_util_port.IsMklEnabled())
    except (ImportError, AttributeError):
        return os.environ.get('TF_ENABLE_ONEDNN_OPTS') == '1'
