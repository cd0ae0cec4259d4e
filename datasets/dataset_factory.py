"""Named datasets: their classes, split sizes, source layout and converted TFRecord files.

``get_dataset_spec(name)`` describes a dataset; ``file_pattern(spec, dataset_dir, split)`` is where
``scripts/convert_to_tfrecord.py`` writes a split (``<dataset_dir>/<name>_<split>-*.tfrecord``); and
``get_split`` resolves those files and the split's size, as slim's ``dataset_factory.get_dataset``.

A dataset need not be registered here: one converted with a label map (or from a COCO JSON) under
any name carries its class names in the split's JSON (`split_info`), and ``get_split`` builds its
spec from that.
"""
import dataclasses
import os
from typing import Mapping, Optional, Tuple

import tensorflow.compat.v1 as tf

from tf1zoo.datasets import coco, pascalvoc, split_info, tfrecord_io
from tf1zoo.datasets.tfrecord_io import DatasetError

# The embedded synthetic dataset's classes (datasets/synthetic_shapes.py), class id = index + 1.
SHAPES_CLASSES = ('circle', 'square', 'triangle', 'star', 'hexagon', 'cross')


@dataclasses.dataclass(frozen=True)
class CocoLayout:
    """Where a COCO-format dataset keeps a split under ``dataset_dir`` (``{split}`` is substituted)."""

    annotation_file: str
    image_dir: str

    def json_path(self, dataset_dir, split):
        return os.path.join(dataset_dir, self.annotation_file.format(split=split))

    def images_path(self, dataset_dir, split):
        return os.path.join(dataset_dir, self.image_dir.format(split=split))


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """A named dataset.

    ``splits_to_sizes`` is None where the sizes come from the data (the synthetic set).
    ``voc_sources`` maps a split to the ``VOC<year>`` folders it is drawn from, in order (07+12
    trainval is VOC2007 trainval then VOC2012 trainval); ``coco_layout`` locates the COCO-format
    annotations. ``dataset_format`` ('voc' or 'coco') is the converter's default.
    """

    name: str
    class_names: Tuple[str, ...]
    dataset_format: str
    splits_to_sizes: Optional[Mapping[str, int]] = None
    voc_sources: Optional[Mapping[str, Tuple[str, ...]]] = None
    coco_layout: Optional[CocoLayout] = None

    @property
    def num_classes(self):
        """The number of classes including background (class 0)."""
        return len(self.class_names) + 1

    @property
    def splits(self):
        """The split names the spec knows."""
        known = self.splits_to_sizes or self.voc_sources or {}
        return tuple(known)


_SHAPES_SPLITS = ('train', 'val', 'trainval', 'test')

_SPECS = (
    DatasetSpec('pascalvoc_2007', pascalvoc.VOC_CLASSES, 'voc',
                splits_to_sizes={'train': 2501, 'val': 2510, 'trainval': 5011, 'test': 4952},
                voc_sources={split: ('2007',) for split in ('train', 'val', 'trainval', 'test')}),
    DatasetSpec('pascalvoc_2012', pascalvoc.VOC_CLASSES, 'voc',
                splits_to_sizes={'train': 5717, 'val': 5823, 'trainval': 11540},
                voc_sources={split: ('2012',) for split in ('train', 'val', 'trainval')}),
    # The SSD paper's "07+12": train on both trainvals, test on VOC2007 test (VOC2012 test
    # annotations were never released).
    DatasetSpec('pascalvoc_0712', pascalvoc.VOC_CLASSES, 'voc',
                splits_to_sizes={'trainval': 16551, 'test': 4952},
                voc_sources={'trainval': ('2007', '2012'), 'test': ('2007',)}),
    DatasetSpec('coco_2017', coco.COCO_CLASSES, 'coco',
                splits_to_sizes={'train': 118287, 'val': 5000},
                coco_layout=CocoLayout('annotations/instances_{split}2017.json', '{split}2017')),
    DatasetSpec('shapes', SHAPES_CLASSES, 'voc',
                voc_sources={split: ('shapes',) for split in _SHAPES_SPLITS},
                coco_layout=CocoLayout('annotations/instances_{split}.json',
                                       'VOCshapes/JPEGImages')),
)
DATASETS = {spec.name: spec for spec in _SPECS}


def get_dataset_spec(name):
    """The DatasetSpec of a dataset name; an unknown name is a ValueError listing the known ones."""
    if name not in DATASETS:
        raise ValueError('unknown dataset %r; known datasets: %s' % (name, ', '.join(DATASETS)))
    return DATASETS[name]


def check_split(spec, split):
    """Raises ValueError when ``split`` is not one of the spec's splits."""
    if split not in spec.splits:
        raise ValueError('dataset %r has no split %r; its splits: %s'
                         % (spec.name, split, ', '.join(spec.splits)))


def tfrecord_name(spec, split):
    """The shard name prefix, ``<name>_<split>``."""
    return '%s_%s' % (spec.name, split)


def file_pattern(spec, dataset_dir, split):
    """``<dataset_dir>/<name>_<split>-*.tfrecord``."""
    return os.path.join(dataset_dir, tfrecord_name(spec, split) + '-*.tfrecord')


@dataclasses.dataclass(frozen=True)
class DatasetSplit:
    """A converted split: its TFRecord files (sorted) and number of examples."""

    spec: DatasetSpec
    split: str
    files: Tuple[str, ...]
    num_samples: int

    @property
    def num_classes(self):
        return self.spec.num_classes


def get_split(dataset_name, split, dataset_dir, pattern=None):
    """The converted split's files, size and classes; no matching file is a DatasetError.

    ``pattern`` overrides ``file_pattern(spec, dataset_dir, split)``. A registered dataset's spec is
    checked against the split's JSON where the converter wrote one; an unregistered name needs that
    JSON (it holds the class names). The size is the JSON's, else the spec's, else the number of
    records in the files.
    """
    info = split_info.read_split_info(dataset_dir, '%s_%s' % (dataset_name, split)) \
        if dataset_dir else None
    spec = _spec_of_split(dataset_name, split, dataset_dir, info)
    pattern = pattern or file_pattern(spec, dataset_dir, split)
    files = tuple(sorted(tf.io.gfile.glob(pattern)))
    if not files:
        raise DatasetError(pattern, 'no TFRecord file matches')
    split_info.check_shard_set(files)
    if info is not None:
        num_samples = info.num_examples
    elif spec.splits_to_sizes is not None:
        num_samples = spec.splits_to_sizes[split]
    else:
        num_samples = tfrecord_io.count_records(files)
    return DatasetSplit(spec=spec, split=split, files=files, num_samples=num_samples)


def _spec_of_split(dataset_name, split, dataset_dir, info):
    """The registered spec (checked against ``info``), or one made from ``info``."""
    if dataset_name in DATASETS:
        spec = DATASETS[dataset_name]
        check_split(spec, split)
        if info is not None and tuple(info.class_names) != spec.class_names:
            raise DatasetError(split_info.info_path(dataset_dir, tfrecord_name(spec, split)),
                               'classes %s are not those of the registered dataset %r (%s)'
                               % (list(info.class_names), dataset_name, list(spec.class_names)))
        return spec
    if info is None:
        raise ValueError('unknown dataset %r: no %s (convert_to_tfrecord.py writes it), and the '
                         'registered datasets are %s'
                         % (dataset_name, split_info.info_path(dataset_dir or '.', '%s_%s' % (
                             dataset_name, split)), ', '.join(DATASETS)))
    return DatasetSpec(dataset_name, tuple(info.class_names), info.dataset_format or 'voc',
                       splits_to_sizes={split: info.num_examples})
