"""Converts a Pascal VOC or COCO split to sharded TFRecords that datasets/input_pipeline.py reads.

    python scripts/convert_to_tfrecord.py --dataset_name=pascalvoc_2007 --dataset_dir=VOCdevkit \\
        --year=2007 --split=trainval --output_dir=data/voc07
    python scripts/convert_to_tfrecord.py --dataset_name=coco_2017 --dataset_dir=coco --split=val \\
        --output_dir=data/coco

Writes ``<output_dir>/<dataset_name>_<split>-00000-of-0000N.tfrecord`` and prints a summary: how many
examples each shard holds and which files were skipped (``--skip_bad``) and why. The flags are
defined only when run as a script, so tests (and other scripts) can import ``convert``.
"""
import dataclasses
import itertools
import os
from typing import Tuple

from absl import flags

from tf1zoo.datasets import coco, dataset_factory, pascalvoc, tfrecord_io
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)
from tf1zoo.scripts import script_flags

FORMATS = ('voc', 'coco')


@dataclasses.dataclass(frozen=True)
class ConversionSummary:
    """What ``convert`` wrote and skipped."""

    dataset_name: str
    split: str
    sources: Tuple[str, ...]
    files: Tuple[str, ...]
    shard_sizes: Tuple[int, ...]
    skipped: Tuple[tfrecord_io.SkippedFile, ...]

    @property
    def num_examples(self):
        return sum(self.shard_sizes)


def voc_folders(spec, split, voc_dir=None, dataset_dir=None, year=None):
    """The VOC folders of a split: ``voc_dir``; else ``<dataset_dir>/VOC<year>`` for ``year`` or,
    without one, for each year the spec draws the split from. Raises ValueError when neither
    ``voc_dir`` nor ``dataset_dir`` is given."""
    if voc_dir:
        return (voc_dir,)
    if not dataset_dir:
        raise ValueError('VOC input needs --voc_dir, or --dataset_dir (with --year)')
    if year:
        return (os.path.join(dataset_dir, 'VOC%s' % year),)
    if not spec.voc_sources or split not in spec.voc_sources:
        raise ValueError('dataset %r has no default VOC folder for split %r; pass --year or --voc_dir'
                         % (spec.name, split))
    return tuple(os.path.join(dataset_dir, 'VOC%s' % y) for y in spec.voc_sources[split])


def coco_paths(spec, split, coco_json=None, coco_image_dir=None, dataset_dir=None):
    """``(json_path, image_dir)``: the flags where given, else the spec's layout under ``dataset_dir``."""
    if coco_json and coco_image_dir:
        return coco_json, coco_image_dir
    if not dataset_dir or spec.coco_layout is None:
        raise ValueError('COCO input needs --coco_json and --coco_image_dir'
                         + (', or --dataset_dir' if spec.coco_layout else ''))
    return (coco_json or spec.coco_layout.json_path(dataset_dir, split),
            coco_image_dir or spec.coco_layout.images_path(dataset_dir, split))


def resolve_format(spec, dataset_format=None):
    """The input format: the given one, or the spec's default; one outside FORMATS is a ValueError."""
    dataset_format = dataset_format or spec.dataset_format
    if dataset_format not in FORMATS:
        raise ValueError('dataset_format must be one of %s, got %r' % (FORMATS, dataset_format))
    return dataset_format


def _example_streams(spec, split, dataset_format, sources, skip_bad, num_workers):
    if dataset_format == 'voc':
        return [pascalvoc.iterate_examples(folder, split, spec.class_names, skip_bad=skip_bad,
                                           num_workers=num_workers) for folder in sources]
    json_path, image_dir = sources
    return [coco.iterate_examples(json_path, image_dir, skip_bad=skip_bad, num_workers=num_workers,
                                  class_names=spec.class_names)]


def convert(dataset_name, split, output_dir, dataset_format=None, voc_dir=None, dataset_dir=None,
            year=None, coco_json=None, coco_image_dir=None, num_shards=4, num_workers=4,
            skip_bad=False, show_progress=True) -> ConversionSummary:
    """Converts one split; see the module docstring and the flags for the arguments.

    Raises ValueError for inconsistent arguments and DatasetError naming the file for bad input
    (unless ``skip_bad`` skips it); a failed conversion leaves no shard in ``output_dir``.
    """
    spec = dataset_factory.get_dataset_spec(dataset_name)
    dataset_factory.check_split(spec, split)
    dataset_format = resolve_format(spec, dataset_format)
    if dataset_format == 'voc':
        sources = voc_folders(spec, split, voc_dir, dataset_dir, year)
    else:
        sources = coco_paths(spec, split, coco_json, coco_image_dir, dataset_dir)
    streams = _example_streams(spec, split, dataset_format, sources, skip_bad, num_workers)
    result = tfrecord_io.write_sharded_tfrecords(
        itertools.chain.from_iterable(streams), output_dir,
        dataset_factory.tfrecord_name(spec, split), num_shards, num_workers=num_workers,
        total=sum(len(stream) for stream in streams), show_progress=show_progress)
    return ConversionSummary(dataset_name=dataset_name, split=split, sources=tuple(sources),
                             files=result.files, shard_sizes=result.shard_sizes,
                             skipped=tuple(itertools.chain.from_iterable(s.skipped for s in streams)))


def format_summary(summary: ConversionSummary) -> str:
    """The report printed after a conversion."""
    lines = ['%s/%s: wrote %d examples from %s' % (summary.dataset_name, summary.split,
                                                   summary.num_examples, ', '.join(summary.sources))]
    lines += ['  %s  %d examples' % (path, size)
              for path, size in zip(summary.files, summary.shard_sizes)]
    lines.append('skipped %d files%s' % (len(summary.skipped), ':' if summary.skipped else ''))
    lines += ['  %s: %s' % (skipped.path, skipped.reason) for skipped in summary.skipped]
    return '\n'.join(lines)


def define_flags(flag_values=flags.FLAGS):
    """Defines the converter's flags (grouped: dataset, VOC input, COCO input, output)."""
    # Dataset.
    flags.DEFINE_string('dataset_name', None, 'Dataset name from datasets/dataset_factory.py: %s.'
                        % ', '.join(dataset_factory.DATASETS), flag_values=flag_values)
    flags.DEFINE_enum('dataset_format', None, FORMATS,
                      'Input format; default: the dataset\'s own (coco for coco_2017, else voc).',
                      flag_values=flag_values)
    flags.DEFINE_string('split', None, 'Split to convert, e.g. trainval, test, train, val.',
                        flag_values=flag_values)
    # VOC input: --voc_dir, or --dataset_dir with --year (or the dataset's default years).
    flags.DEFINE_string('voc_dir', None, 'VOC folder holding Annotations/, JPEGImages/, ImageSets/.',
                        flag_values=flag_values)
    flags.DEFINE_string('dataset_dir', None, 'Folder holding VOC<year>/ folders, or the COCO '
                        'annotations/ and image folders.', flag_values=flag_values)
    flags.DEFINE_string('year', None, 'VOC year: reads <dataset_dir>/VOC<year>.',
                        flag_values=flag_values)
    # COCO input: --coco_json and --coco_image_dir, or --dataset_dir with the dataset's layout.
    flags.DEFINE_string('coco_json', None, 'COCO instances JSON.', flag_values=flag_values)
    flags.DEFINE_string('coco_image_dir', None, 'Folder of the JSON\'s images.',
                        flag_values=flag_values)
    # Output.
    flags.DEFINE_string('output_dir', None, 'Where the shards are written.', flag_values=flag_values)
    flags.DEFINE_integer('num_shards', 4, 'Number of TFRecord shards.', lower_bound=1,
                         flag_values=flag_values)
    flags.DEFINE_integer('num_workers', 4, 'Threads that load and write examples.', lower_bound=1,
                         flag_values=flag_values)
    flags.DEFINE_bool('skip_bad', False, 'Skip (and list) bad images and annotations instead of '
                      'stopping at the first.', flag_values=flag_values)
    flags.mark_flags_as_required(['dataset_name', 'split', 'output_dir'], flag_values=flag_values)
    flags.register_multi_flags_validator(
        ['dataset_name', 'dataset_format', 'split', 'voc_dir', 'dataset_dir', 'year', 'coco_json',
         'coco_image_dir'], _validate_sources,
        message='bad input flags', flag_values=flag_values)


def _validate_sources(values):
    """absl validator: the input flags must name a source for the dataset's format."""
    if values['dataset_name'] is None or values['split'] is None:
        return True  # reported by mark_flags_as_required
    try:
        spec = dataset_factory.get_dataset_spec(values['dataset_name'])
        dataset_factory.check_split(spec, values['split'])
        if resolve_format(spec, values['dataset_format']) == 'voc':
            voc_folders(spec, values['split'], values['voc_dir'], values['dataset_dir'],
                        values['year'])
        else:
            coco_paths(spec, values['split'], values['coco_json'], values['coco_image_dir'],
                       values['dataset_dir'])
    except ValueError as error:
        raise flags.ValidationError(str(error)) from error
    return True


def main(values):
    summary = convert(values.dataset_name, values.split, values.output_dir,
                      dataset_format=values.dataset_format, voc_dir=values.voc_dir,
                      dataset_dir=values.dataset_dir, year=values.year,
                      coco_json=values.coco_json, coco_image_dir=values.coco_image_dir,
                      num_shards=values.num_shards, num_workers=values.num_workers,
                      skip_bad=values.skip_bad)
    print(format_summary(summary))


if __name__ == '__main__':
    script_flags.run_as_program(define_flags, main)
