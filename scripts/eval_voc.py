"""Pascal VOC evaluation: the devkit's results files and metric (VOC07 11-point and VOC2010+ area AP).

Evaluate existing results files against a VOCdevkit, as the devkit does (no model needed):

    python scripts/eval_voc.py --dataset_dir=VOCdevkit --year=2007 --split=test \\
        --results_dir=results/ --output_json=results/voc07_test.json

Run a checkpoint first (it writes ``comp4_det_<split>_<class>.txt`` into --results_dir), on the VOC
folder's JPEGs or on converted TFRecords (--tfrecord_pattern; the ground truth then comes from the
records):

    python scripts/eval_voc.py --checkpoint_path=train/ssd300 --model_name=ssd_vgg_300 \\
        --dataset_dir=VOCdevkit --year=2007 --split=test --results_dir=results/

Objects marked difficult are ignored exactly as VOCevaldet.m ignores them; --iou_comparison=strict
gives py-faster-rcnn's variant (IoU > 0.5). Prints a per-class table and writes the JSON
``{"voc07_11point": {"mAP": ..., "ap": {class: ...}}, "voc12_area": {...}}``.
"""
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
import collections
import functools
import os

import numpy as np
import tensorflow.compat.v1 as tf
from absl import flags

from tf1zoo.datasets import dataset_factory, pascalvoc, standard_fields, voc_eval
from tf1zoo.ops import np_box_ops
from tf1zoo.scripts import checkpoint_info, inference_lib, script_flags

fields = standard_fields.InputDataFields
FLAGS = flags.FLAGS
METRICS = ('voc07_11point', 'voc12_area')


def define_flags(flag_values=flags.FLAGS):
    """Data, model, post-processing and output flags."""
    define = script_flags.Definer(flag_values)
    define.string('dataset_dir', None, 'Folder holding VOC<year>/ (a VOCdevkit).')
    define.string('year', '2007', 'VOC year: the split is read from <dataset_dir>/VOC<year>.')
    define.string('voc_dir', None, 'The VOC folder itself (instead of dataset_dir and year).')
    define.string('split', 'test', 'ImageSets/Main split.')
    define.string('tfrecord_pattern', None, 'Evaluate on these TFRecords (ground truth '
                        'included) instead of a VOC folder.')
    define.string('dataset_name', None, 'Dataset whose class names to use (dataset_factory); '
                        'default: the checkpoint\'s, else pascalvoc_2007.')
    define.string('results_dir', None, 'Folder of comp4_det_<split>_<class>.txt files.')
    define.string('output_json', None, 'Where the metrics JSON is written (default: '
                        '<results_dir>/voc_eval.json).')
    define.enum('iou_comparison', 'devkit', ['devkit', 'strict'],
                      'devkit: a hit at IoU >= 0.5 (VOCevaldet.m); strict: IoU > 0.5 (py-faster-rcnn).')
    define.string('checkpoint_path', None, 'Run this checkpoint (file prefix or train dir) '
                        'first and write its results files.')
    define.integer('batch_size', 8, 'Images per batch.')
    inference_lib.define_model_flags(define)
    define.required(['results_dir'])


def voc_folder(values):
    """The VOC folder the flags name, or None."""
    if values.voc_dir:
        return values.voc_dir
    if values.dataset_dir:
        return os.path.join(values.dataset_dir, 'VOC' + values.year)
    return None


def ground_truth_from_voc(voc_dir, split, class_names):
    """(image ids, ground truth by class) from the split's XML annotations."""
    image_ids = pascalvoc.read_image_ids(voc_dir, split)
    ground_truth = collections.defaultdict(dict)
    for image_id in image_ids:
        record = pascalvoc.parse_annotation(os.path.join(voc_dir, 'Annotations', image_id + '.xml'),
                                            class_names)
        boxes = np.array([obj.source_box for obj in record.objects], np.float64).reshape([-1, 4])
        classes = np.array([obj.class_id for obj in record.objects], np.int64)
        difficult = np.array([obj.difficult for obj in record.objects], bool)
        _add_image(ground_truth, image_id, boxes, classes, difficult, class_names)
    return image_ids, dict(ground_truth)


def _add_image(ground_truth, image_id, voc_boxes, classes, difficult, class_names):
    for class_id in np.unique(classes):
        selected = classes == class_id
        ground_truth[class_names[class_id - 1]][image_id] = voc_eval.GroundTruth(
            boxes=voc_boxes[selected], difficult=difficult[selected])


def read_results(results_dir, class_names, split):
    """Detections by class from the results folder; a missing class file is an error, as in the devkit."""
    detections = {}
    for name in class_names:
        path = os.path.join(results_dir, voc_eval.results_file_name(name, image_set=split))
        if not os.path.exists(path):
            raise ValueError('missing results file %s (one file per class, possibly empty)' % path)
        detections[name] = voc_eval.read_results_file(path)
    return detections


def run_model(values, class_names):
    """Runs the checkpoint over the split; writes the results files, returns the ground truth seen.

    The ground truth is returned only for TFRecord input (None for a VOC folder, whose XML is read).
    """
    prefix, settings = inference_lib.model_settings_from_flags(values)
    if list(settings['class_names']) != list(class_names):
        raise ValueError('the checkpoint\'s classes %s are not the dataset\'s %s'
                         % (settings['class_names'], list(class_names)))
    if values.tfrecord_pattern:
        files = sorted(tf.io.gfile.glob(values.tfrecord_pattern))
        if not files:
            raise ValueError('no TFRecord file matches %s' % values.tfrecord_pattern)
        dataset_fn = functools.partial(inference_lib.tfrecord_dataset, files, settings,
                                       values.batch_size)
    else:
        voc_dir = voc_folder(values)
        image_ids = pascalvoc.read_image_ids(voc_dir, values.split)
        paths = [os.path.join(voc_dir, 'JPEGImages', image_id + '.jpg') for image_id in image_ids]
        dataset_fn = functools.partial(inference_lib.image_files_dataset, paths, image_ids,
                                       settings, values.batch_size)
    detections = collections.defaultdict(lambda: ([], [], []))
    ground_truth = collections.defaultdict(dict)
    for image in inference_lib.iterate_detections(
            dataset_fn, settings, prefix, **inference_lib.detection_options(values)):
        _collect(image, detections, ground_truth, class_names)
    by_class = {name: voc_eval.Detections(image_ids=detections[name][0],
                                          scores=np.asarray(detections[name][1], np.float64),
                                          boxes=np.asarray(detections[name][2]).reshape([-1, 4]))
                for name in class_names}
    write_results(values.results_dir, by_class, values.split)
    return dict(ground_truth) if values.tfrecord_pattern else None


def _collect(image, detections, ground_truth, class_names):
    height, width = (int(v) for v in image[fields.original_image_shape][:2])
    clipped = np.clip(image['detection_boxes'], 0.0, 1.0)
    # A 1-based inclusive box covers [xmin - 1, xmax], so a box narrower or lower than one pixel
    # (e.g. one wholly outside the image, clipped to zero area) would be written inverted
    # (xmin > xmax) that the devkit's format cannot hold; such slivers are left out.
    pixel_heights = (clipped[:, 2] - clipped[:, 0]) * height
    pixel_widths = (clipped[:, 3] - clipped[:, 1]) * width
    inside = (pixel_heights >= 1.0) & (pixel_widths >= 1.0)
    boxes = np_box_ops.normalized_to_voc(clipped[inside], height, width)
    for box, score, class_id in zip(boxes, image['detection_scores'][inside],
                                    image['detection_classes'][inside]):
        image_ids, scores, class_boxes = detections[class_names[int(class_id) - 1]]
        image_ids.append(image[fields.source_id])
        scores.append(float(score))
        class_boxes.append(box)
    if fields.groundtruth_boxes in image:
        voc_boxes = np.round(np_box_ops.normalized_to_voc(image[fields.groundtruth_boxes], height,
                                                          width)).astype(np.float64)
        _add_image(ground_truth, image[fields.source_id], voc_boxes,
                   image[fields.groundtruth_classes], image[fields.groundtruth_difficult],
                   class_names)


def write_results(results_dir, detections_by_class, split):
    os.makedirs(results_dir, exist_ok=True)
    for name, detections in detections_by_class.items():
        voc_eval.write_results_file(
            os.path.join(results_dir, voc_eval.results_file_name(name, image_set=split)), detections)


def format_table(results, class_names):
    """The per-class AP table under both metrics, and the means."""
    lines = ['%-16s %14s %12s' % ('class', 'VOC07 11-pt', 'VOC12 area')]
    for name in list(class_names) + ['mAP']:
        row = [results[m]['mAP'] if name == 'mAP' else results[m]['ap'][name] for m in METRICS]
        lines.append('%-16s %14s %12s' % ((name,) + tuple(
            '-' if ap is None else '%.4f' % ap for ap in row)))
    return '\n'.join(lines)


def class_names_for(values):
    """Class names: --dataset_name's, else the checkpoint's, else VOC's 20."""
    if values.dataset_name:
        return tuple(dataset_factory.get_dataset_spec(values.dataset_name).class_names)
    if values.checkpoint_path:
        prefix = checkpoint_info.resolve_checkpoint(values.checkpoint_path)
        recorded = checkpoint_info.read_checkpoint_info(prefix).get('class_names')
        if recorded:
            return tuple(recorded)
    return tuple(pascalvoc.VOC_CLASSES)


def run(values):
    """Evaluates as the flags say; returns the metrics dict."""
    class_names = class_names_for(values)
    ground_truth = None
    if values.checkpoint_path:
        ground_truth = run_model(values, class_names)
    if ground_truth is None:
        voc_dir = voc_folder(values)
        if voc_dir is None:
            raise ValueError('--dataset_dir (with --year) or --voc_dir is needed for the ground truth')
        _, ground_truth = ground_truth_from_voc(voc_dir, values.split, class_names)
    detections = read_results(values.results_dir, class_names, values.split)
    results = voc_eval.evaluate(detections, ground_truth, class_names, values.iou_comparison)
    output_json = values.output_json or os.path.join(values.results_dir, 'voc_eval.json')
    checkpoint_info.write_json_atomically(output_json, results)
    print(format_table(results, class_names))
    print('Metrics written to %s' % output_json)
    return results


if __name__ == '__main__':
    script_flags.run_as_program(define_flags, run)
