"""Command-line entry points (run as `python scripts/<name>.py`) and the libraries they share."""
from tf1zoo.ops import compat as _compat  # noqa: F401  (TF set-up first)
