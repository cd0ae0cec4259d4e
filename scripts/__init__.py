"""Command-line programs (run as `python scripts/<name>.py`); each is a thin CLI over `tf1zoo.engine`."""
from tf1zoo.ops import compat as _compat  # noqa: F401  (TF set-up first)
