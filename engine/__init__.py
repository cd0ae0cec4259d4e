"""The library layer under the command-line programs: training and inference loops, evaluation,
conversion, checkpoint metadata and flag helpers."""
from tf1zoo.ops import compat as _compat  # noqa: F401  (TF set-up first)
