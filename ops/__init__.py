"""Detection core shared by every model: boxes, anchors, matching, losses, NMS."""
from tf1zoo.ops import compat as _compat  # noqa: F401  (TF set-up first)
