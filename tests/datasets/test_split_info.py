"""A converted split appears whole or not at all: the split's JSON is its manifest (datasets/split_info.py).

A converter killed among its renames is a real kill: a child process whose ``os.replace`` of the
third shard ends the process with ``os._exit`` (no cleanup handler runs, as under SIGKILL).
"""
import glob
import os
import subprocess
import sys
import textwrap

import pytest

from tf1zoo.datasets import dataset_factory, input_pipeline, split_info, synthetic_shapes
from tf1zoo.datasets.tfrecord_io import DatasetError
from tf1zoo.engine import tfrecord_conversion

_KILLED_CONVERTER = textwrap.dedent('''
    import os, sys
    from tf1zoo.ops import atomic_io
    from tf1zoo.engine import tfrecord_conversion
    voc_dir, output_dir, num_shards = sys.argv[1], sys.argv[2], int(sys.argv[3])
    real_replace, renames = os.replace, []
    def replace_then_die(source, target):
        if target.endswith('.tfrecord'):
            renames.append(target)
            if len(renames) == 3:
                os._exit(9)
        real_replace(source, target)
    os.replace = replace_then_die
    tfrecord_conversion.convert_named('shapes', 'trainval', output_dir, voc_dir=voc_dir,
                                      num_shards=num_shards, num_workers=1, show_progress=False)
''')


@pytest.fixture(scope='module')
def voc_dir(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('shapes'))
    synthetic_shapes.generate(root, num_train=7, num_val=1, num_test=1, seed=5, num_workers=1,
                              show_progress=False)
    return os.path.join(root, 'VOCshapes')


def _convert(voc_dir, output_dir, num_shards, **options):
    return tfrecord_conversion.convert_named('shapes', 'trainval', output_dir, voc_dir=voc_dir,
                                             num_shards=num_shards, num_workers=1,
                                             show_progress=False, **options)


def _killed_conversion(voc_dir, output_dir, num_shards):
    result = subprocess.run([sys.executable, '-c', _KILLED_CONVERTER, voc_dir, output_dir,
                             str(num_shards)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 9, result.stderr


def _shards(output_dir):
    return sorted(os.path.basename(p) for p in glob.glob(os.path.join(output_dir, '*.tfrecord')))


def _hidden_temps(output_dir):
    return glob.glob(os.path.join(output_dir, '.*.tmp'))


def test_a_conversion_killed_among_its_renames_is_refused_then_redone(voc_dir, tmp_path):
    output_dir = str(tmp_path / 'records')
    _killed_conversion(voc_dir, output_dir, num_shards=4)
    # Two shards made it under their final names, two temporaries stayed hidden.
    assert len(_shards(output_dir)) == 2 and len(_hidden_temps(output_dir)) == 2
    for read in (lambda: dataset_factory.get_split('shapes', 'trainval', output_dir),
                 lambda: input_pipeline.list_files(os.path.join(output_dir, '*.tfrecord'))):
        with pytest.raises(DatasetError, match=r'shapes_trainval\.json: missing, and '
                                               r'shapes_trainval\.incomplete .*convert the split'):
            read()
    summary = _convert(voc_dir, output_dir, num_shards=4)
    assert summary.num_examples == 8 and len(_shards(output_dir)) == 4
    assert not _hidden_temps(output_dir)  # the killed run's temporaries are gone
    assert not os.path.exists(os.path.join(output_dir, 'shapes_trainval.incomplete'))
    assert dataset_factory.get_split('shapes', 'trainval', output_dir).num_samples == 8


def test_a_killed_run_over_an_older_one_never_mixes_them(voc_dir, tmp_path):
    output_dir = str(tmp_path / 'records')
    _convert(voc_dir, output_dir, num_shards=2)
    _killed_conversion(voc_dir, output_dir, num_shards=4)
    # The old run's 2 shards and 2 of the new run's 4 are on disk; no JSON vouches for them.
    assert len(_shards(output_dir)) == 4
    with pytest.raises(DatasetError, match='incomplete'):
        dataset_factory.get_split('shapes', 'trainval', output_dir)
    _convert(voc_dir, output_dir, num_shards=4)
    assert _shards(output_dir) == ['shapes_trainval-%05d-of-00004.tfrecord' % i for i in range(4)]


def test_a_shard_missing_or_foreign_beside_the_json_is_named(voc_dir, tmp_path):
    output_dir = str(tmp_path / 'records')
    _convert(voc_dir, output_dir, num_shards=2)
    first, second = (os.path.join(output_dir, name) for name in _shards(output_dir))
    foreign = os.path.join(output_dir, 'shapes_trainval-00000-of-00003.tfrecord')
    os.link(first, foreign)
    with pytest.raises(DatasetError, match=r'1 shards it does not list.*00000-of-00003'):
        dataset_factory.get_split('shapes', 'trainval', output_dir)
    os.remove(foreign)
    os.remove(second)
    with pytest.raises(DatasetError, match=r'1 of its 2 shards are missing.*00001-of-00002'):
        input_pipeline.list_files(first)


def test_a_failed_conversion_keeps_the_earlier_split_readable(voc_dir, tmp_path):
    output_dir = str(tmp_path / 'records')
    _convert(voc_dir, output_dir, num_shards=2)
    before = {name: os.path.getmtime(os.path.join(output_dir, name)) for name in _shards(output_dir)}
    missing_split = os.path.join(os.path.dirname(voc_dir), 'nowhere')
    with pytest.raises(DatasetError):
        tfrecord_conversion.convert_named('shapes', 'trainval', output_dir, voc_dir=missing_split,
                                          num_shards=3, show_progress=False)
    assert {name: os.path.getmtime(os.path.join(output_dir, name))
            for name in _shards(output_dir)} == before
    assert dataset_factory.get_split('shapes', 'trainval', output_dir).num_samples == 8


def test_tfrecords_not_named_as_the_converter_names_them_are_read_as_they_are(voc_dir, tmp_path):
    output_dir = str(tmp_path / 'records')
    _convert(voc_dir, output_dir, num_shards=1)
    own = str(tmp_path / 'mine.record')
    os.rename(os.path.join(output_dir, _shards(output_dir)[0]), own)
    assert input_pipeline.list_files(own) == [own]
    split_info.check_shard_set([own])


def test_a_whole_set_from_a_converter_that_wrote_no_json_is_read_but_not_half_of_one(voc_dir, tmp_path):
    output_dir = str(tmp_path / 'records')
    _convert(voc_dir, output_dir, num_shards=2)
    os.remove(os.path.join(output_dir, 'shapes_trainval.json'))  # as conversions before the manifest
    assert dataset_factory.get_split('shapes', 'trainval', output_dir).num_samples == 8
    os.remove(os.path.join(output_dir, _shards(output_dir)[1]))
    with pytest.raises(DatasetError, match=r'missing, and the shards .* are not one whole set'):
        dataset_factory.get_split('shapes', 'trainval', output_dir)
