"""Files written whole or not at all: a temporary file in the target's folder, then ``os.replace``.

TensorFlow-free, so that the data generator's worker processes can use it too.
"""
import os
import tempfile


def temp_path_beside(final_path):
    """A new, empty temporary file in ``final_path``'s folder (``.<name>.<random>.tmp``)."""
    directory, basename = os.path.split(final_path)
    handle, path = tempfile.mkstemp(prefix='.%s.' % basename, suffix='.tmp', dir=directory or '.')
    os.close(handle)
    return path


def write_file_atomically(path, data):
    """Writes ``data`` (bytes) to ``path`` through a temporary file in the same folder, then a rename:
    readers see the old file or the whole new one, never a part. The file gets `default_file_mode`."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    temp_path = temp_path_beside(path)
    try:
        with open(temp_path, 'wb') as stream:
            stream.write(data)
        os.chmod(temp_path, default_file_mode())
        os.replace(temp_path, path)
    except BaseException:
        remove_quietly(temp_path)
        raise


def default_file_mode():
    """The mode a plain ``open()`` would give a new file (0666 minus the umask); mkstemp gives 0600."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def remove_quietly(path):
    """Removes ``path`` if it exists."""
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
