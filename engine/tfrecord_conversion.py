"""Converting a Pascal VOC folder or a COCO JSON to sharded TFRecords with the split's JSON beside them.

``convert`` reads a split with ``datasets.pascalvoc`` or ``datasets.coco``, writes
``<output_dir>/<dataset_name>_<split>-0000i-of-0000N.tfrecord`` (``tfrecord_io``) and then
``<output_dir>/<dataset_name>_<split>.json`` (``split_info``: class names, shards, counts). The classes
are a registered dataset's (``dataset_factory``), a label map's (``datasets.label_map``: any classes,
any dataset name) or, for COCO input under a new name, the JSON's categories.
"""
import dataclasses
import os
from typing import Optional, Tuple

from tf1zoo.datasets import coco, dataset_factory, label_map, pascalvoc, split_info, tfrecord_io

FORMATS = ('voc', 'coco')


@dataclasses.dataclass(frozen=True)
class ConversionSummary:
    """What ``convert`` wrote and skipped."""

    dataset_name: str
    split: str
    class_names: Tuple[str, ...]
    sources: Tuple[str, ...]
    files: Tuple[str, ...]
    shard_sizes: Tuple[int, ...]
    skipped: Tuple[tfrecord_io.SkippedFile, ...]
    info_path: str

    @property
    def num_examples(self):
        return sum(self.shard_sizes)


@dataclasses.dataclass(frozen=True)
class DatasetSource:
    """What a conversion reads: the dataset's name, its classes and where its files are.

    ``spec`` is the registered `dataset_factory.DatasetSpec`, or None for a dataset named by a label
    map (``class_names``) or a COCO JSON (``class_names`` None: its categories).
    """

    dataset_name: str
    dataset_format: str
    class_names: Optional[Tuple[str, ...]]
    spec: Optional[dataset_factory.DatasetSpec] = None


def dataset_source(dataset_name, dataset_format=None, label_map_path=None):
    """The `DatasetSource` of a name, an optional format and an optional label map.

    Raises:
      ValueError: an unregistered VOC dataset without a label map, a label map that contradicts a
        registered dataset, or an unknown format.
      DatasetError: the label map does not read.
    """
    spec = dataset_factory.DATASETS.get(dataset_name)
    class_names = label_map.read_label_map(label_map_path) if label_map_path else None
    if spec is not None and class_names is not None and class_names != spec.class_names:
        raise ValueError('%s names classes %s, not those of the registered dataset %r; give the '
                         'dataset another --dataset_name' % (label_map_path, list(class_names),
                                                              dataset_name))
    dataset_format = dataset_format or (spec.dataset_format if spec else
                                        ('voc' if class_names else None))
    if dataset_format is None:
        raise ValueError('dataset %r is not registered (%s): pass --label_map with its classes, or '
                         '--dataset_format=coco to take them from the COCO JSON'
                         % (dataset_name, ', '.join(dataset_factory.DATASETS)))
    if dataset_format not in FORMATS:
        raise ValueError('dataset_format must be one of %s, got %r' % (FORMATS, dataset_format))
    if spec is None and class_names is None and dataset_format == 'voc':
        raise ValueError('dataset %r is not registered: VOC input needs --label_map (a label_map.pbtxt '
                         'or one class name per line)' % dataset_name)
    return DatasetSource(dataset_name, dataset_format,
                         class_names if class_names is not None else (spec.class_names if spec else None),
                         spec)


def check_split(source, split):
    """A registered dataset knows its splits; any split name is fine for one named by its files."""
    if source.spec is not None:
        dataset_factory.check_split(source.spec, split)


def voc_folders(source, split, voc_dir=None, dataset_dir=None, year=None):
    """The VOC folders of a split: ``voc_dir``; else ``<dataset_dir>/VOC<year>`` for ``year`` or,
    without one, for each year the spec draws the split from. Raises ValueError when neither
    ``voc_dir`` nor ``dataset_dir`` is given."""
    if voc_dir:
        return (voc_dir,)
    if not dataset_dir:
        raise ValueError('VOC input needs --voc_dir, or --dataset_dir (with --year)')
    if year:
        return (os.path.join(dataset_dir, 'VOC%s' % year),)
    spec = source.spec
    if spec is None or not spec.voc_sources or split not in spec.voc_sources:
        raise ValueError('dataset %r has no default VOC folder for split %r; pass --year or --voc_dir'
                         % (source.dataset_name, split))
    return tuple(os.path.join(dataset_dir, 'VOC%s' % y) for y in spec.voc_sources[split])


def coco_paths(source, split, coco_json=None, coco_image_dir=None, dataset_dir=None):
    """``(json_path, image_dir)``: the flags where given, else the spec's layout under ``dataset_dir``."""
    if coco_json and coco_image_dir:
        return coco_json, coco_image_dir
    layout = source.spec.coco_layout if source.spec else None
    if not dataset_dir or layout is None:
        raise ValueError('COCO input needs --coco_json and --coco_image_dir'
                         + (', or --dataset_dir' if layout else ''))
    return (coco_json or layout.json_path(dataset_dir, split),
            coco_image_dir or layout.images_path(dataset_dir, split))


def input_paths(source, split, voc_dir=None, dataset_dir=None, year=None, coco_json=None,
                coco_image_dir=None):
    """The VOC folders, or the COCO ``(json_path, image_dir)``, a conversion reads."""
    if source.dataset_format == 'voc':
        return voc_folders(source, split, voc_dir, dataset_dir, year)
    return coco_paths(source, split, coco_json, coco_image_dir, dataset_dir)


def _example_streams(source, split, paths, skip_bad, num_workers):
    if source.dataset_format == 'voc':
        return [pascalvoc.iterate_examples(folder, split, source.class_names, skip_bad=skip_bad,
                                           num_workers=num_workers) for folder in paths]
    json_path, image_dir = paths
    return [coco.iterate_examples(json_path, image_dir, skip_bad=skip_bad, num_workers=num_workers,
                                  class_names=source.class_names)]


def convert(source: DatasetSource, split, output_dir, paths, num_shards=4, num_workers=4,
            skip_bad=False, show_progress=True) -> ConversionSummary:
    """Converts one split of ``source`` read from ``paths`` (`input_paths`).

    Raises DatasetError naming the file for bad input (unless ``skip_bad`` skips it); a failed
    conversion leaves no shard in ``output_dir`` and an earlier conversion of the split as it was.
    The split's JSON, its manifest, is removed before the new shards are moved into place and
    written after the last (`split_info.check_shard_set`), so readers see the whole split or none.
    """
    check_split(source, split)
    streams = _example_streams(source, split, paths, skip_bad, num_workers)
    record_name = '%s_%s' % (source.dataset_name, split)
    class_names = streams[0].class_names
    result, info_path, skipped = split_info.write_split(
        streams, output_dir, record_name, num_shards,
        dict(dataset_name=source.dataset_name, split=split, class_names=class_names,
             dataset_format=source.dataset_format, sources=tuple(paths)),
        num_workers=num_workers, show_progress=show_progress)
    return ConversionSummary(dataset_name=source.dataset_name, split=split, class_names=class_names,
                             sources=tuple(paths), files=result.files, shard_sizes=result.shard_sizes,
                             skipped=tuple(skipped), info_path=info_path)


def convert_named(dataset_name, split, output_dir, label_map_path=None, dataset_format=None,
                  **options):
    """`convert` for a dataset named as on the command line; ``options``: `input_paths`' locations
    (voc_dir, dataset_dir, year, coco_json, coco_image_dir), then `convert`'s keywords."""
    location_keys = ('voc_dir', 'dataset_dir', 'year', 'coco_json', 'coco_image_dir')
    locations = {key: options.pop(key) for key in location_keys if key in options}
    source = dataset_source(dataset_name, dataset_format, label_map_path)
    check_split(source, split)
    return convert(source, split, output_dir, input_paths(source, split, **locations), **options)


def format_summary(summary: ConversionSummary) -> str:
    """The report printed after a conversion."""
    lines = ['%s/%s: wrote %d examples of %d classes from %s'
             % (summary.dataset_name, summary.split, summary.num_examples, len(summary.class_names),
                ', '.join(summary.sources))]
    lines += ['  %s  %d examples' % (path, size)
              for path, size in zip(summary.files, summary.shard_sizes)]
    lines.append('  %s  (classes: %s)' % (summary.info_path, ', '.join(summary.class_names)))
    lines.append('skipped %d files%s' % (len(summary.skipped), ':' if summary.skipped else ''))
    if summary.skipped:
        lines.append(tfrecord_io.format_skipped(summary.skipped))
    return '\n'.join(lines)

