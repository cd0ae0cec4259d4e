"""The JSON written beside a converted split: its class names, shards and example counts.

``convert_to_tfrecord.py`` writes ``<output_dir>/<dataset_name>_<split>.json`` once every shard of
the split is in place::

    {"dataset_name": "pets", "split": "trainval", "class_names": ["cat", "dog"],
     "num_examples": 120, "shards": [{"file": "pets_trainval-00000-of-00002.tfrecord",
     "num_examples": 60}, ...], "dataset_format": "voc", "sources": [...]}

It is what lets a dataset the repository has never heard of (classes from a label map or a COCO
JSON) be trained on, evaluated and run with ``--dataset_name`` and ``--dataset_dir`` alone: the class
names travel from here into the checkpoint's JSON. Class ids are 1-based indices into
``class_names`` (0 is the background).
"""
import dataclasses
import json
import os
from typing import Tuple

from tf1zoo.datasets.tfrecord_io import DatasetError
from tf1zoo.ops import atomic_io

SCHEMA_VERSION = 1


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
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding='utf-8') as stream:
            content = json.load(stream)
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
