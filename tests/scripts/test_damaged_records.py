"""A damaged record met in training or evaluation is named (shard, record, image), not TensorFlow's bare
``jpeg::Uncompress failed`` or ``truncated record``; the last checkpoint is kept."""
import glob
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tiny_shapes

from tf1zoo.datasets.tfrecord_io import DatasetError
from tf1zoo.engine import cli
from tf1zoo.ops.standard_fields import TfExampleFields
from tf1zoo.scripts import eval_voc, train_ssd

THIN = 0.0625
DAMAGED_INDEX = 2


@pytest.fixture(scope='module')
def paths(tmp_path_factory):
    return tiny_shapes.make_tiny_records(str(tmp_path_factory.mktemp('damaged')), num_test=3, seed=4)


def _shard(records, split):
    return os.path.join(records, 'shapes_%s-00000-of-00001.tfrecord' % split)


def _with_undecodable_image(source, target):
    """Copies a shard with record DAMAGED_INDEX's JPEG damaged in its middle third (what the
    converter refuses now; a shard written by an older converter or another tool can hold it)."""
    examples = [tf.train.Example.FromString(record) for record in tf.io.tf_record_iterator(source)]
    image = examples[DAMAGED_INDEX].features.feature[TfExampleFields.image_encoded].bytes_list
    data = bytearray(image.value[0])
    third = len(data) // 3
    data[third:2 * third] = np.random.RandomState(0).randint(0, 256, third, np.uint8).tobytes()
    image.value[0] = bytes(data)
    with tf.io.TFRecordWriter(target) as writer:
        for example in examples:
            writer.write(example.SerializeToString())
    filename = examples[DAMAGED_INDEX].features.feature[TfExampleFields.filename].bytes_list.value[0]
    return filename.decode()


def _copy_records(paths, tmp_path):
    records = str(tmp_path / 'records')
    shutil.copytree(paths['records'], records)
    return records


def _train(records, train_dir, max_steps):
    return tiny_shapes.run_training(train_ssd, dataset_name='shapes', dataset_dir=records,
                                    train_dir=train_dir, depth_multiplier=THIN, batch_size=1,
                                    max_steps=max_steps, progress=False)


def test_an_undecodable_image_in_training_names_shard_record_and_image(paths, tmp_path):
    records = _copy_records(paths, tmp_path)
    shard = _shard(records, 'trainval')
    image_name = _with_undecodable_image(_shard(paths['records'], 'trainval'), shard)
    train_dir = str(tmp_path / 'train')
    with pytest.raises(DatasetError) as raised:
        _train(records, train_dir, max_steps=15)  # 5 images: every one is met within 5 steps
    assert str(raised.value).startswith('%s: record %d (at byte ' % (shard, DAMAGED_INDEX))
    assert '(image %s) does not decode: jpeg::Uncompress failed' % image_name in str(raised.value)
    assert tf.train.latest_checkpoint(train_dir) is not None  # step 0's checkpoint is kept


def test_a_truncated_shard_in_evaluation_names_the_shard_and_the_record(paths, tmp_path):
    records = _copy_records(paths, tmp_path)
    shard = _shard(records, 'test')
    sizes = [len(record) for record in tf.io.tf_record_iterator(shard)]
    with open(shard, 'r+b') as stream:
        stream.truncate(sizes[0] + 16 + sizes[1] // 2)  # record 1 cut in the middle
    train_dir = str(tmp_path / 'train')
    _train(paths['records'], train_dir, max_steps=1)
    with pytest.raises(DatasetError, match=r'test-00000-of-00001\.tfrecord: record 1 \(at byte %d\) '
                                           r'is damaged' % (sizes[0] + 16)):
        eval_voc.run(cli.parse(eval_voc.define_flags, checkpoint_path=train_dir, split='test',
                               results_dir=str(tmp_path / 'eval'), dataset_name='shapes',
                               tfrecord_pattern=os.path.join(records, 'shapes_test-*')))


def test_skip_corrupt_records_evaluates_the_records_that_read_and_reports_the_rest(
        paths, tmp_path, capsys):
    records = _copy_records(paths, tmp_path)
    shard = _shard(records, 'test')
    sizes = [len(record) for record in tf.io.tf_record_iterator(shard)]
    assert len(sizes) == 3
    with open(shard, 'r+b') as stream:
        stream.truncate(sizes[0] + 16 + sizes[1] // 2)  # record 1 cut, record 2 gone
    train_dir = str(tmp_path / 'train')
    _train(paths['records'], train_dir, max_steps=1)
    results = eval_voc.run(cli.parse(
        eval_voc.define_flags, checkpoint_path=train_dir, split='test', skip_corrupt_records=True,
        results_dir=str(tmp_path / 'eval'), dataset_name='shapes',
        tfrecord_pattern=os.path.join(records, 'shapes_test-*')))
    report = capsys.readouterr().out
    assert ('skipping 1 damaged or unreadable records from 1 shard(s):\n  %s: record 1 (at byte %d) '
            'is damaged: truncated record' % (shard, sizes[0] + 16)) in report
    # Only record 0's image was run: every detection written is on it.
    first = tf.train.Example.FromString(next(iter(tf.io.tf_record_iterator(shard))))
    source_id = first.features.feature[TfExampleFields.source_id].bytes_list.value[0].decode()
    image_ids = set()
    for path in glob.glob(str(tmp_path / 'eval' / 'comp4_det_test_*.txt')):
        with open(path) as stream:
            image_ids.update(line.split()[0] for line in stream if line.strip())
    assert image_ids == {source_id}
    assert set(results) >= {'voc07_11point', 'voc12_area'}


def _write_records(path, records):
    with tf.io.TFRecordWriter(path) as writer:
        for record in records:
            writer.write(record)
    return path


def _flip_byte_in_record(path, index):
    """Flips one byte in the data of record ``index`` (its CRC no longer matches); returns its offset."""
    sizes = [len(record) for record in tf.io.tf_record_iterator(path)]
    offset = sum(size + 16 for size in sizes[:index])
    with open(path, 'r+b') as stream:
        stream.seek(offset + 12 + sizes[index] // 2)
        byte = stream.read(1)
        stream.seek(-1, os.SEEK_CUR)
        stream.write(bytes([byte[0] ^ 0xFF]))
    return offset


REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_a_byte_flipped_shard_stops_training_with_one_line_naming_it(paths, tmp_path):
    records = _copy_records(paths, tmp_path)
    shard = _shard(records, 'trainval')
    offset = _flip_byte_in_record(shard, 1)
    train_dir = str(tmp_path / 'train')
    result = subprocess.run(
        [sys.executable, os.path.join(REPO_ROOT, 'scripts', 'train_ssd.py'), '--dataset_name=shapes',
         '--dataset_dir=' + records, '--train_dir=' + train_dir, '--depth_multiplier=%s' % THIN,
         '--batch_size=1', '--max_steps=15', '--noprogress'],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert result.returncode == 1, result.stderr[-3000:]
    assert 'Traceback' not in result.stderr
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith('train_ssd.py: error: %s: record 1 (at byte %d) is damaged: '
                                'corrupted record at %d' % (shard, offset, offset + 12)), last_line
    assert tf.train.latest_checkpoint(train_dir) is not None


def test_skip_corrupt_records_trains_past_a_flipped_and_a_truncated_shard_and_reports_both(
        paths, tmp_path, capsys):
    originals = list(tf.io.tf_record_iterator(_shard(paths['records'], 'trainval')))  # 4 + 1 images
    parts = tmp_path / 'parts'
    parts.mkdir()
    flipped = _write_records(str(parts / 'part-0.tfrecord'), originals[:3])
    flipped_at = _flip_byte_in_record(flipped, 1)  # for a TFRecord reader, the shard ends there
    cut = _write_records(str(parts / 'part-1.tfrecord'), originals[3:])
    with open(cut, 'r+b') as stream:
        stream.truncate(len(originals[3]) + 16 + len(originals[4]) // 2)  # record 1 cut
    train_dir = str(tmp_path / 'train')
    step = tiny_shapes.run_training(
        train_ssd, dataset_name='shapes', dataset_dir=paths['records'], train_dir=train_dir,
        file_pattern=str(parts / '*.tfrecord'), skip_corrupt_records=True, depth_multiplier=THIN,
        batch_size=1, max_steps=6, progress=False)
    assert step == 6
    report = capsys.readouterr().out
    assert 'skipping 3 damaged or unreadable records from 2 shard(s)' in report
    assert ('%s: record 1 (at byte %d) is damaged: corrupted record at %d; skipped: records 1 to '
            'the end (2)' % (flipped, flipped_at, flipped_at + 12)) in report  # TF: the data's offset
    cut_at = len(originals[3]) + 16
    assert re.search(r'%s: record 1 \(at byte %d\) is damaged: truncated record at %d.*; skipped: '
                     r'records 1 to the end \(1\)\n' % (re.escape(cut), cut_at, cut_at), report)
