"""The useful line of a graph-mode TensorFlow error.

A ``tf.errors.OpError`` raised by ``Session.run`` wraps its kernel's message ("jpeg::Uncompress
failed", "Key conv1/weights not found in checkpoint") in "Graph execution error", the node's name and
the Python traceback of where the node was defined; messages shown to users quote the kernel alone.
"""

_NOISE = ('[[', 'Node:', 'File ', 'Detected at', 'Graph execution error', 'Original error',
          'Restoring from checkpoint failed')


def kernel_message(error):
    """The last line of ``error``'s message that is the kernel's own words (else its type's name)."""
    lines = [line.strip() for line in (getattr(error, 'message', None) or str(error)).splitlines()]
    lines = [line for line in lines if line and not line.startswith(_NOISE)]
    return lines[-1] if lines else type(error).__name__
