"""Pascal VOC evaluation: the devkit's results files and metric (VOC07 11-point and VOC2010+ area AP).

Evaluate existing results files against a VOCdevkit, as the devkit does (no model needed):

    python scripts/eval_voc.py --dataset_dir=VOCdevkit --year=2007 --split=test \\
        --results_dir=results/ --output_json=results/voc07_test.json

Run a checkpoint first (it writes ``comp4_det_<split>_<class>.txt`` into --results_dir), on the VOC
folder's JPEGs or on converted TFRecords (--tfrecord_pattern; the ground truth then comes from the
records):

    python scripts/eval_voc.py --checkpoint_path=train/ssd300 \\
        --dataset_dir=VOCdevkit --year=2007 --split=test --results_dir=results/

The classes are the checkpoint's (its JSON), else --label_map's or --dataset_name's, else VOC's 20.
Objects marked difficult are ignored exactly as VOCevaldet.m ignores them, with its 11 recall
thresholds (MATLAB's 0:0.1:1); --protocol=py-faster-rcnn gives py-faster-rcnn's voc_eval.py (IoU > 0.5,
NumPy's thresholds). Prints a per-class table and writes the JSON
``{"voc07_11point": {"mAP": ..., "ap": {class: ...}}, "voc12_area": {...}}``.
"""
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
import os

from absl import flags

from tf1zoo.datasets import voc_eval
from tf1zoo.engine import cli, inference, voc_evaluation


def define_flags(flag_values=flags.FLAGS):
    """Data, model, post-processing and output flags."""
    define = cli.Definer(flag_values)
    define.string('dataset_dir', None, 'Folder holding VOC<year>/ (a VOCdevkit).')
    define.string('year', '2007', 'VOC year: the split is read from <dataset_dir>/VOC<year>.')
    define.string('voc_dir', None, 'The VOC folder itself (instead of dataset_dir and year).')
    define.string('split', 'test', 'ImageSets/Main split.')
    define.string('tfrecord_pattern', None, 'Evaluate on these TFRecords (ground truth '
                  'included) instead of a VOC folder.')
    define.string('dataset_name', None, 'Dataset whose class names to use: a registered one, or one '
                  'converted under that name (its split\'s JSON in --tfrecord_dir, or beside '
                  '--tfrecord_pattern); default: the checkpoint\'s, else VOC\'s.')
    define.string('tfrecord_dir', None, 'Folder of --dataset_name\'s converted split (default: '
                  '--tfrecord_pattern\'s).')
    define.string('label_map', None, 'Class names from a label map (pbtxt or one name per line).')
    define.string('results_dir', None, 'Folder of comp4_det_<split>_<class>.txt files.')
    define.string('output_json', None, 'Where the metrics JSON is written (default: '
                  '<results_dir>/voc_eval.json).')
    define.enum('protocol', 'devkit', list(voc_eval.PROTOCOLS),
                'devkit: VOCevaldet.m (a hit at IoU >= 0.5, MATLAB\'s thresholds); py-faster-rcnn: its '
                'voc_eval.py (IoU > 0.5, NumPy\'s thresholds).')
    define.enum('iou_comparison', None, ['devkit', 'strict'],
                'Deprecated: --protocol (strict is py-faster-rcnn).')
    define.string('checkpoint_path', None, 'Run this checkpoint (file prefix or train dir) '
                  'first and write its results files.')
    define.integer('batch_size', 8, 'Images per batch.')
    define.bool('skip_corrupt_records', False, 'With --tfrecord_pattern: skip records that do not '
                'read, parse or decode (they are reported first: how many, from which shards) '
                'instead of stopping at the first.')
    inference.define_model_flags(define)
    define.required(['results_dir'])


def _protocol(values):
    if values.iou_comparison:
        return 'py-faster-rcnn' if values.iou_comparison == 'strict' else 'devkit'
    return values.protocol


def run(values):
    """Evaluates as the flags say; returns the metrics dict."""
    # 1. The classes the evaluation is about.
    records_dir = values.tfrecord_dir or (os.path.dirname(values.tfrecord_pattern)
                                          if values.tfrecord_pattern else None)
    class_names = voc_evaluation.class_names_for(values.dataset_name, values.label_map,
                                                 values.checkpoint_path, records_dir, values.split)
    voc_dir = voc_evaluation.voc_folder(values.voc_dir, values.dataset_dir, values.year)
    # 2. With a checkpoint: detections into the results files (records carry their ground truth).
    ground_truth = None
    if values.checkpoint_path:
        prefix, settings = inference.model_settings_from_flags(values)
        images = voc_evaluation.EvaluationImages(values.split, voc_dir, values.tfrecord_pattern,
                                                 values.skip_corrupt_records)
        if voc_dir is None and not values.tfrecord_pattern:
            raise ValueError('--dataset_dir (with --year), --voc_dir or --tfrecord_pattern is needed')
        ground_truth = voc_evaluation.write_checkpoint_results(
            prefix, settings, images, values.results_dir, class_names, values.batch_size,
            inference.detection_options(values))
    # 3. Else the ground truth of the VOC folder's XML.
    if ground_truth is None:
        if voc_dir is None:
            raise ValueError('--dataset_dir (with --year) or --voc_dir is needed for the ground truth')
        _, ground_truth = voc_evaluation.ground_truth_from_voc(voc_dir, values.split, class_names)
    # 4. Score the results files as the devkit does; write and print the metrics.
    results, output_json = voc_evaluation.evaluate_results_dir(
        values.results_dir, values.split, class_names, ground_truth, _protocol(values),
        values.output_json)
    print(voc_evaluation.format_table(results, class_names))
    print('Metrics written to %s' % output_json)
    return results


if __name__ == '__main__':
    cli.run_as_program(define_flags, run)
