"""Files written whole or not at all: a temporary file in the target's folder, flushed to disk, then
``os.replace``; after a crash a reader finds the old file or the whole new one, never a part.

Standard library only (the data generator's worker processes use it too).
"""
import os
import tempfile


def temp_path_beside(final_path):
    """A new, empty temporary file in ``final_path``'s folder (``.<name>.<random>.tmp``)."""
    directory, basename = os.path.split(final_path)
    handle, path = tempfile.mkstemp(prefix='.%s.' % basename, suffix='.tmp', dir=directory or '.')
    os.close(handle)
    return path


def write_file_atomically(path, data, durable=True):
    """Writes ``data`` (bytes) to ``path`` through a temporary file in the same folder, then a rename.
    The file gets `default_file_mode`. ``durable``: fsync the file and the folder (`move_into_place`),
    so that a power cut cannot leave an empty file behind the rename; files cheap to regenerate can
    skip it."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    temp_path = temp_path_beside(path)
    try:
        with open(temp_path, 'wb') as stream:
            stream.write(data)
        move_into_place(temp_path, path, durable)
    except BaseException:
        remove_quietly(temp_path)
        raise


def move_into_place(temp_path, path, durable=True):
    """Gives ``temp_path`` (already written) `default_file_mode` and renames it to ``path``; ``durable``:
    syncs it first and the folder after, so that the rename itself survives a crash."""
    os.chmod(temp_path, default_file_mode())  # mkstemp creates 0600
    if durable:
        with open(temp_path, 'rb') as stream:
            os.fsync(stream.fileno())
    os.replace(temp_path, path)
    if durable:
        sync_folder(os.path.dirname(os.path.abspath(path)))


def sync_folder(folder):
    """fsyncs a folder's entries (renames into it) where the platform allows it."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open folders
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def default_file_mode():
    """The mode a plain ``open()`` would give a new file (0666 minus the umask); mkstemp gives 0600."""
    return 0o666 & ~current_umask()


def current_umask():
    """The process's umask. Linux tells it in /proc/self/status; elsewhere ``os.umask`` can only read
    it by setting it (briefly, so a thread creating a file at that moment could see umask 0)."""
    try:
        with open('/proc/self/status') as status:
            for line in status:
                if line.startswith('Umask:'):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def remove_quietly(path):
    """Removes ``path`` if it exists."""
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
