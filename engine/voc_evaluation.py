"""Pascal VOC evaluation of a detector: devkit results files, then both VOC metrics (``voc_eval``).

`write_checkpoint_results` runs a checkpoint over a VOC folder's JPEGs or over converted TFRecords
and writes ``comp4_det_<split>_<class>.txt`` per class (VOC 1-based pixel boxes);
`ground_truth_from_voc` reads a split's XML; `evaluate_results_dir` scores a results folder as the
devkit does and writes the metrics JSON ``{"voc07_11point": {"mAP": ..., "ap": {class: ...}},
"voc12_area": {...}}``. `class_names_for` decides which classes a run is about.
"""
import collections
import dataclasses
import functools
import os
from typing import Optional

import numpy as np

from tf1zoo.datasets import (
    dataset_factory,
    input_pipeline,
    label_map,
    pascalvoc,
    tfrecord_io,
    voc_eval,
)
from tf1zoo.engine import checkpoint_info, detector_training, inference
from tf1zoo.ops import np_box_ops, standard_fields

fields = standard_fields.InputDataFields
METRICS = ('voc07_11point', 'voc12_area')


@dataclasses.dataclass(frozen=True)
class EvaluationImages:
    """The images of a split to run a detector over: a VOC folder's, or converted TFRecords' (whose
    ground truth then comes from the records)."""

    split: str
    voc_dir: Optional[str] = None
    tfrecord_pattern: Optional[str] = None
    # Skip records that do not read, parse or decode (reported first) instead of stopping at one.
    skip_corrupt_records: bool = False


def voc_folder(voc_dir=None, dataset_dir=None, year='2007'):
    """``voc_dir``, else ``<dataset_dir>/VOC<year>``, else None."""
    if voc_dir:
        return voc_dir
    if dataset_dir:
        return os.path.join(dataset_dir, 'VOC' + year)
    return None


def class_names_for(dataset_name=None, label_map_path=None, checkpoint_path=None, dataset_dir=None,
                    split=None):
    """The classes of an evaluation: a label map's, else a dataset's (registered, or converted
    under its own name into ``dataset_dir``), else the checkpoint's, else VOC's 20."""
    if label_map_path:
        return label_map.read_label_map(label_map_path)
    if dataset_name:
        if dataset_name in dataset_factory.DATASETS or not dataset_dir:
            return tuple(dataset_factory.get_dataset_spec(dataset_name).class_names)
        return tuple(dataset_factory.get_split(dataset_name, split, dataset_dir).spec.class_names)
    if checkpoint_path:
        prefix = checkpoint_info.resolve_checkpoint(checkpoint_path)
        recorded = checkpoint_info.read_checkpoint_info(prefix).get('class_names')
        if recorded:
            return tuple(recorded)
    return tuple(pascalvoc.VOC_CLASSES)


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


def _dataset_fn(images: EvaluationImages, settings, batch_size):
    if images.tfrecord_pattern:
        files = input_pipeline.list_files(images.tfrecord_pattern)
        return functools.partial(inference.tfrecord_dataset, files, settings, batch_size,
                                 ignore_errors=images.skip_corrupt_records)
    image_ids = pascalvoc.read_image_ids(images.voc_dir, images.split)
    paths = [os.path.join(images.voc_dir, 'JPEGImages', image_id + '.jpg') for image_id in image_ids]
    return functools.partial(inference.image_files_dataset, paths, image_ids, settings, batch_size)


def write_checkpoint_results(checkpoint_prefix, settings, images: EvaluationImages, results_dir,
                             class_names, batch_size=8, options=inference.DetectionOptions()):
    """Runs the checkpoint over the images; writes the results files, returns the ground truth seen.

    ``settings``: `inference.model_settings`' dict. The ground truth is returned only for TFRecord
    input (None for a VOC folder, whose XML is read instead): with ``images.skip_corrupt_records``,
    that of the records that read, so skipped images count neither as misses nor as detections.
    """
    if list(settings['class_names']) != list(class_names):
        raise ValueError('the checkpoint\'s classes %s are not the dataset\'s %s'
                         % (settings['class_names'], list(class_names)))
    detections = collections.defaultdict(lambda: ([], [], []))
    ground_truth = collections.defaultdict(dict)
    files = input_pipeline.list_files(images.tfrecord_pattern) if images.tfrecord_pattern else ()
    if images.skip_corrupt_records and files:
        detector_training.report_damaged_records(files, show_progress=False)
    dataset_fn = _dataset_fn(images, settings, batch_size)
    # TensorFlow names neither the shard nor the record of a damaged input: they are found and named.
    with tfrecord_io.damaged_records_named(lambda: files):
        for image in inference.iterate_detections(dataset_fn, settings, checkpoint_prefix,
                                                  **options.keywords(settings['model_name'])):
            _collect(image, detections, ground_truth, class_names)
    by_class = {name: voc_eval.Detections(image_ids=detections[name][0],
                                          scores=np.asarray(detections[name][1], np.float64),
                                          boxes=np.asarray(detections[name][2]).reshape([-1, 4]))
                for name in class_names}
    write_results(results_dir, by_class, images.split)
    return dict(ground_truth) if images.tfrecord_pattern else None


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


def evaluate_results_dir(results_dir, split, class_names, ground_truth, protocol='devkit',
                         output_json=None):
    """Scores the results folder against ``ground_truth`` (by class, then image) and writes the
    metrics JSON (default ``<results_dir>/voc_eval.json``); returns (metrics, the JSON's path)."""
    detections = read_results(results_dir, class_names, split)
    results = voc_eval.evaluate(detections, ground_truth, class_names, protocol)
    output_json = output_json or os.path.join(results_dir, 'voc_eval.json')
    checkpoint_info.write_json_atomically(output_json, results)
    return results, output_json


def evaluate_checkpoint(checkpoint_path, images: EvaluationImages, results_dir, batch_size=8,
                        protocol='devkit', output_json=None, options=inference.DetectionOptions()):
    """The whole evaluation of a checkpoint with the classes and settings its JSON records:
    results files, then metrics (ground truth from the records or the VOC folder's XML)."""
    prefix, settings = inference.model_settings(checkpoint_path)
    class_names = tuple(settings['class_names'])
    ground_truth = write_checkpoint_results(prefix, settings, images, results_dir, class_names,
                                            batch_size, options)
    if ground_truth is None:
        _, ground_truth = ground_truth_from_voc(images.voc_dir, images.split, class_names)
    return evaluate_results_dir(results_dir, images.split, class_names, ground_truth, protocol,
                                output_json)[0]


def format_table(results, class_names):
    """The per-class AP table under both metrics, and the means."""
    lines = ['%-16s %14s %12s' % ('class', 'VOC07 11-pt', 'VOC12 area')]
    for name in list(class_names) + ['mAP']:
        row = [results[m]['mAP'] if name == 'mAP' else results[m]['ap'][name] for m in METRICS]
        lines.append('%-16s %14s %12s' % ((name,) + tuple(
            '-' if ap is None else '%.4f' % ap for ap in row)))
    return '\n'.join(lines)
