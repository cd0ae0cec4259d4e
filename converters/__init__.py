"""converters: Caffe nets to TF checkpoints."""
from tf1zoo.ops import compat as _compat  # noqa: F401  (TF set-up first)
