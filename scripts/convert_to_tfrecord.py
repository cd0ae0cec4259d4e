"""Converts a Pascal VOC or COCO split to sharded TFRecords that the training and evaluation CLIs read.

    python scripts/convert_to_tfrecord.py --dataset_name=pascalvoc_2007 --dataset_dir=VOCdevkit \\
        --year=2007 --split=trainval --output_dir=data/voc07
    python scripts/convert_to_tfrecord.py --dataset_name=coco_2017 --dataset_dir=coco --split=val \\
        --output_dir=data/coco

Your own dataset, with any classes, under any name: a VOC-layout folder and a label map (the TF
Object Detection API's label_map.pbtxt, or one class name per line), or a COCO-format JSON (its
categories are the classes unless --label_map names them):

    python scripts/convert_to_tfrecord.py --dataset_name=pets --label_map=pets/labels.pbtxt \\
        --voc_dir=pets --split=trainval --output_dir=data/pets

Writes ``<output_dir>/<dataset_name>_<split>-00000-of-0000N.tfrecord`` and
``<output_dir>/<dataset_name>_<split>.json`` (class names, shards, counts: what lets the train CLIs,
eval_voc.py and detect.py name the classes), and prints a summary: how many examples each shard holds
and which files were skipped (``--skip_bad``) and why.
"""
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
from absl import flags

from tf1zoo.datasets import dataset_factory
from tf1zoo.engine import cli, tfrecord_conversion

_LOCATION_FLAGS = ('voc_dir', 'dataset_dir', 'year', 'coco_json', 'coco_image_dir')


def define_flags(flag_values=flags.FLAGS):
    """Defines the converter's flags (grouped: dataset, VOC input, COCO input, output)."""
    define = cli.Definer(flag_values)
    # Dataset.
    define.string('dataset_name', None, 'A registered dataset (%s), or any name for your own with '
                  '--label_map (or a COCO JSON); it names the shards.'
                  % ', '.join(dataset_factory.DATASETS))
    define.string('label_map', None, 'The classes of your own dataset: a label_map.pbtxt (TF Object '
                  'Detection API) or a text file of one class name per line.')
    define.enum('dataset_format', None, list(tfrecord_conversion.FORMATS),
                'Input format; default: the dataset\'s own (coco for coco_2017, else voc).')
    define.string('split', None, 'Split to convert, e.g. trainval, test, train, val.')
    # VOC input: --voc_dir, or --dataset_dir with --year (or the dataset's default years).
    define.string('voc_dir', None, 'VOC folder holding Annotations/, JPEGImages/, ImageSets/.')
    define.string('dataset_dir', None, 'Folder holding VOC<year>/ folders, or the COCO annotations/ '
                  'and image folders.')
    define.string('year', None, 'VOC year: reads <dataset_dir>/VOC<year>.')
    # COCO input: --coco_json and --coco_image_dir, or --dataset_dir with the dataset's layout.
    define.string('coco_json', None, 'COCO instances JSON.')
    define.string('coco_image_dir', None, 'Folder of the JSON\'s images.')
    # Output.
    define.string('output_dir', None, 'Where the shards and the split\'s JSON are written.')
    define.integer('num_shards', 4, 'Number of TFRecord shards.', lower_bound=1)
    define.integer('num_workers', 4, 'Threads that load and write examples.', lower_bound=1)
    define.bool('skip_bad', False, 'Skip (and list) bad images and annotations instead of stopping '
                'at the first.')
    define.required(['dataset_name', 'split', 'output_dir'])
    flags.register_multi_flags_validator(
        ['dataset_name', 'label_map', 'dataset_format', 'split'] + list(_LOCATION_FLAGS),
        _validate_sources, message='bad input flags', flag_values=flag_values)


def _validate_sources(values):
    """absl validator: the input flags must name a source for the dataset's format."""
    if values['dataset_name'] is None or values['split'] is None:
        return True  # reported by mark_flags_as_required
    try:
        source = tfrecord_conversion.dataset_source(values['dataset_name'], values['dataset_format'],
                                                    values['label_map'])
        tfrecord_conversion.check_split(source, values['split'])
        tfrecord_conversion.input_paths(source, values['split'],
                                        **{key: values[key] for key in _LOCATION_FLAGS})
    except ValueError as error:  # DatasetError (an unreadable label map) included
        raise flags.ValidationError(str(error)) from error
    return True


def main(values):
    # 1. What to read: the dataset's classes and its files.
    source = tfrecord_conversion.dataset_source(values.dataset_name, values.dataset_format,
                                                values.label_map)
    paths = tfrecord_conversion.input_paths(source, values.split,
                                            **{key: values[key].value for key in _LOCATION_FLAGS})
    # 2. Convert: shards, then the split's JSON.
    summary = tfrecord_conversion.convert(source, values.split, values.output_dir, paths,
                                          num_shards=values.num_shards, num_workers=values.num_workers,
                                          skip_bad=values.skip_bad)
    # 3. Report.
    print(tfrecord_conversion.format_summary(summary))


if __name__ == '__main__':
    cli.run_as_program(define_flags, main)
