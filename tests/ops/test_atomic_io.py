"""Atomic writes: the whole new file or the old one, never a part, and no temporary file left."""
import os

import pytest

from tf1zoo.ops import atomic_io


def test_write_replaces_the_file_whole_with_the_umask_mode(tmp_path):
    path = tmp_path / 'sub' / 'out.json'
    old_umask = os.umask(0o027)
    try:
        atomic_io.write_file_atomically(str(path), b'first')
        atomic_io.write_file_atomically(str(path), b'second')
    finally:
        os.umask(old_umask)
    assert path.read_bytes() == b'second'
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path / 'sub') == ['out.json']


def test_a_failed_write_keeps_the_old_file_and_removes_its_temporary(tmp_path):
    path = tmp_path / 'out.txt'
    path.write_bytes(b'kept')
    with pytest.raises(TypeError):
        atomic_io.write_file_atomically(str(path), 'not bytes')
    assert path.read_bytes() == b'kept'
    assert os.listdir(tmp_path) == ['out.txt']


@pytest.mark.parametrize('durable, expected_syncs', [(True, 2), (False, 0)])
def test_durable_writes_sync_the_file_and_its_folder(tmp_path, monkeypatch, durable, expected_syncs):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(atomic_io.os, 'fsync', lambda handle: synced.append(handle) or real_fsync(handle))
    atomic_io.write_file_atomically(str(tmp_path / 'out.bin'), b'data', durable=durable)
    assert len(synced) == expected_syncs
    assert (tmp_path / 'out.bin').read_bytes() == b'data'
