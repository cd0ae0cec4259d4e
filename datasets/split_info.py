"""The JSON written beside a converted split: its class names, shards and example counts.

``convert_to_tfrecord.py`` writes ``<output_dir>/<dataset_name>_<split>.json`` once every shard of
the split is in place::

    {"dataset_name": "pets", "split": "trainval", "class_names": ["cat", "dog"],
     "num_examples": 120, "shards": [{"file": "pets_trainval-00000-of-00002.tfrecord",
     "num_examples": 60}, ...], "dataset_format": "voc", "sources": [...]}

The JSON is also the split's manifest: the converter removes the old one before it moves new shards
into place and writes the new one after the last, so a split whose JSON is there is whole. Readers
call `check_shard_set`, which refuses converter-named shards (``<name>-00003-of-00008.tfrecord``)
that are not exactly the set the JSON lists (a mix of runs) or that have no JSON while the marker
``<name>.incomplete`` (written before the first rename, removed after the JSON) says a conversion
was interrupted; shards without JSON or marker (older conversions) must form one whole set by name.

It is what lets a dataset the repository has never heard of (classes from a label map or a COCO
JSON) be trained on, evaluated and run with ``--dataset_name`` and ``--dataset_dir`` alone: the class
names travel from here into the checkpoint's JSON. Class ids are 1-based indices into
``class_names`` (0 is the background).
"""
import dataclasses
import glob
import itertools
import json
import os
import re
from typing import Iterable, Tuple

import tensorflow.compat.v1 as tf

from tf1zoo.datasets import tfrecord_io
from tf1zoo.datasets.tfrecord_io import DatasetError
from tf1zoo.ops import atomic_io

SCHEMA_VERSION = 1
# The converter's shard names (tfrecord_io.shard_filename); other TFRecords are read as they are.
_SHARD_NAME = re.compile(r'^(?P<record>.+)-(?P<index>\d{5})-of-(?P<count>\d{5})\.tfrecord$')


@dataclasses.dataclass(frozen=True)
class SplitInfo:
    """A converted split as its JSON describes it; ``shard_files`` are base names in its folder."""

    dataset_name: str
    split: str
    class_names: Tuple[str, ...]
    shard_files: Tuple[str, ...]
    shard_sizes: Tuple[int, ...]
    dataset_format: str = ''
    sources: Tuple[str, ...] = ()

    @property
    def num_examples(self):
        return sum(self.shard_sizes)


def info_path(dataset_dir, record_name):
    """``<dataset_dir>/<record_name>.json`` (``record_name``: ``<dataset_name>_<split>``)."""
    return os.path.join(dataset_dir, record_name + '.json')


def write_split_info(dataset_dir, record_name, info: SplitInfo):
    """Writes the split's JSON atomically; returns its path."""
    path = info_path(dataset_dir, record_name)
    content = {'schema_version': SCHEMA_VERSION, 'dataset_name': info.dataset_name,
               'split': info.split, 'class_names': list(info.class_names),
               'num_examples': info.num_examples, 'dataset_format': info.dataset_format,
               'sources': list(info.sources),
               'shards': [{'file': name, 'num_examples': size}
                          for name, size in zip(info.shard_files, info.shard_sizes)]}
    atomic_io.write_file_atomically(path, (json.dumps(content, indent=2) + '\n').encode('utf-8'))
    return path


def read_split_info(dataset_dir, record_name):
    """The `SplitInfo` of a converted split, or None where no JSON was written (older conversions).

    Raises:
      DatasetError: the JSON exists but does not parse or lacks a field.
    """
    path = info_path(dataset_dir, record_name)
    if not tf.io.gfile.exists(path):
        return None
    try:
        with tf.io.gfile.GFile(path, 'r') as stream:
            content = json.loads(stream.read())
        shards = content['shards']
        return SplitInfo(dataset_name=content['dataset_name'], split=content['split'],
                         class_names=tuple(content['class_names']),
                         shard_files=tuple(shard['file'] for shard in shards),
                         shard_sizes=tuple(int(shard['num_examples']) for shard in shards),
                         dataset_format=content.get('dataset_format', ''),
                         sources=tuple(content.get('sources', ())))
    except (OSError, ValueError) as error:
        raise DatasetError(path, 'split info does not load (%s)' % error) from error
    except (KeyError, TypeError) as error:
        raise DatasetError(path, 'split info lacks %s' % error) from error


def shard_glob(dataset_dir, record_name):
    """The glob of every converter shard of ``record_name`` in ``dataset_dir``, whatever the count."""
    return os.path.join(glob.escape(dataset_dir), glob.escape(record_name) + '-?????-of-?????.tfrecord')


def marker_path(dataset_dir, record_name):
    """``<dataset_dir>/<record_name>.incomplete``: there while a conversion moves shards into place."""
    return os.path.join(dataset_dir, record_name + '.incomplete')


def begin_publishing(dataset_dir, record_name):
    """Before the first shard is moved into place: the marker, then the old JSON removed (so that
    a run killed among the renames leaves the marker and no JSON vouching for a mix)."""
    atomic_io.write_file_atomically(marker_path(dataset_dir, record_name), b'')
    atomic_io.remove_quietly(info_path(dataset_dir, record_name))


def end_publishing(dataset_dir, record_name):
    """After the split's JSON is written."""
    atomic_io.remove_quietly(marker_path(dataset_dir, record_name))


def _complete_by_name(names):
    """Whether shard base names are exactly ``-00000-of-N`` ... ``-(N-1)-of-N`` for one N."""
    parsed = {(int(match.group('index')), int(match.group('count')))
              for match in map(_SHARD_NAME.match, names)}
    counts = {count for _, count in parsed}
    return len(counts) == 1 and {index for index, _ in parsed} == set(range(counts.pop()))


def _names(paths, limit=3):
    names = sorted(os.path.basename(path) for path in paths)
    return ', '.join(names[:limit]) + (' and %d more' % (len(names) - limit) if len(names) > limit else '')


def check_shard_set(files: Iterable[str]):
    """Refuses shards of a split that was not converted whole: ``files`` named as the converter
    names them need their split's JSON, and the shards in that folder must be exactly the ones it
    lists. Other files pass unchecked.

    Raises:
      DatasetError: naming the JSON (or the folder) and what is missing or extra.
    """
    groups = set()
    for path in files:
        match = _SHARD_NAME.match(os.path.basename(path))
        if match:
            groups.add((os.path.dirname(path), match.group('record')))
    for folder, record_name in sorted(groups):
        json_path = info_path(folder, record_name)
        info = read_split_info(folder, record_name)
        on_disk = {os.path.basename(path) for path in tf.io.gfile.glob(shard_glob(folder, record_name))}
        if info is None:
            if tf.io.gfile.exists(marker_path(folder, record_name)):
                raise DatasetError(json_path, 'missing, and %s.incomplete beside it marks a conversion '
                                   'that was interrupted while it moved shards into place: convert '
                                   'the split again' % record_name)
            if not _complete_by_name(on_disk):
                raise DatasetError(json_path, 'missing, and the shards %s-*.tfrecord beside it are '
                                   'not one whole set (%s): convert the split again'
                                   % (record_name, _names(on_disk)))
            continue  # a whole set by name from a converter that wrote no JSON
        missing = set(info.shard_files) - on_disk
        extra = on_disk - set(info.shard_files)
        if missing or extra:
            problems = (['%d of its %d shards are missing (%s)' % (len(missing), len(info.shard_files),
                                                                 _names(missing))] if missing else []) + \
                (['%d shards it does not list are beside it (%s), from another run'
                  % (len(extra), _names(extra))] if extra else [])
            raise DatasetError(json_path, 'the split is not whole: %s; convert the split again'
                               % '; '.join(problems))


def write_split(streams, output_dir, record_name, num_shards, split_fields, num_workers=1,
                show_progress=True, serialize_fn=None):
    """Writes the examples of ``streams`` (`tfrecord_io.ExampleStream`s, in turn) as ``record_name``'s
    shards, then its JSON, whole or not at all: the marker and the old JSON's removal before the
    first rename (`begin_publishing`), the JSON after the last (`write_split_info`), then the
    marker's removal. ``split_fields``: the `SplitInfo` fields besides the shards. A run whose every
    file was skipped as bad is a DatasetError listing them.

    Returns:
      (`tfrecord_io.WriteResult`, the JSON's path, the skipped files).
    """
    try:
        result = tfrecord_io.write_sharded_tfrecords(
            itertools.chain.from_iterable(streams), output_dir, record_name, num_shards,
            num_workers=num_workers, total=sum(len(stream) for stream in streams),
            show_progress=show_progress, serialize_fn=serialize_fn,
            before_publish=lambda: begin_publishing(output_dir, record_name))
    except DatasetError as error:
        skipped = list(itertools.chain.from_iterable(stream.skipped for stream in streams))
        if not skipped:
            raise
        raise DatasetError(error.path, '%s: all %d files were skipped as bad:\n%s' % (
            error.problem, len(skipped), tfrecord_io.format_skipped(skipped))) from None
    info = SplitInfo(shard_files=tuple(os.path.basename(path) for path in result.files),
                     shard_sizes=result.shard_sizes, **split_fields)
    path = write_split_info(output_dir, record_name, info)
    end_publishing(output_dir, record_name)
    return result, path, list(itertools.chain.from_iterable(stream.skipped for stream in streams))
