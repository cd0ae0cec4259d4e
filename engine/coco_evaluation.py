"""COCO's detection metric (pycocotools' ``COCOeval``, ``iouType='bbox'``) of a checkpoint.

The checkpoint runs over the images a COCO JSON lists (its model from the checkpoint's JSON; R-FCN
one image at a time, any size); each detection becomes a COCO result, ``{"image_id", "category_id",
"bbox": [x, y, width, height] in the original image's pixels, "score"}``, the model's 1-based class
mapped back to the JSON's category id by name (`datasets.coco.category_map`). The results file is
written atomically, then ``COCOeval`` computes its twelve numbers (AP at IoU .50:.05:.95, AP50, AP75,
AP for small / medium / large objects, AR at 1 / 10 / 100 detections and by size).
"""
import contextlib
import io
import json
import os

import numpy as np
from pycocotools.cocoeval import COCOeval

from tf1zoo.datasets import coco, tfrecord_io
from tf1zoo.datasets.tfrecord_io import DatasetError
from tf1zoo.engine import inference
from tf1zoo.ops import atomic_io, standard_fields

fields = standard_fields.InputDataFields
# COCOeval.stats in its order, by their usual short names.
STAT_NAMES = ('AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl')


def to_coco_results(image_id, boxes, scores, classes, height, width, class_to_category):
    """COCO result dicts of one image's detections: normalised ``[n, 4]`` ``[ymin, xmin, ymax,
    xmax]`` boxes (clipped to the image) -> ``[x, y, width, height]`` pixels; 1-based classes ->
    category ids."""
    clipped = np.clip(np.asarray(boxes, np.float64).reshape(-1, 4), 0.0, 1.0)
    results = []
    for (ymin, xmin, ymax, xmax), score, class_id in zip(clipped, scores, classes):
        results.append({'image_id': int(image_id), 'category_id': int(class_to_category[int(class_id)]),
                        'bbox': [xmin * width, ymin * height, (xmax - xmin) * width,
                                 (ymax - ymin) * height],
                        'score': float(score)})
    return results


def evaluate_results(coco_gt, results, image_ids=None, verbose=True):
    """``{'stats': {name: value}, 'per_category': {category name: AP}}`` of COCOeval over ``results``
    (a list of result dicts; zeros where there is none); ``image_ids`` restricts the evaluation
    (default: every image of ``coco_gt``). A category's AP is COCOeval's own average of its
    precision over IoU .50:.95 and recall, all areas, 100 detections (-1 where it has no ground
    truth)."""
    names = {category['id']: category['name'] for category in coco_gt.loadCats(coco_gt.getCatIds())}
    if not results:
        return {'stats': {name: 0.0 for name in STAT_NAMES},
                'per_category': {name: 0.0 for name in names.values()}}
    quiet = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO())
    with quiet:  # pycocotools prints its progress and the summary table on stdout
        evaluation = COCOeval(coco_gt, coco_gt.loadRes(list(results)), iouType='bbox')
        if image_ids is not None:
            evaluation.params.imgIds = sorted(image_ids)
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    # precision: [IoU thresholds, recall points, categories, area ranges, max detections].
    precision = evaluation.eval['precision'][:, :, :, 0, -1]
    per_category = {}
    for index, category_id in enumerate(evaluation.params.catIds):
        values = precision[:, :, index]
        per_category[names[category_id]] = float(values[values > -1].mean()) if (values > -1).any() else -1.0
    return {'stats': {name: float(value) for name, value in zip(STAT_NAMES, evaluation.stats)},
            'per_category': per_category}


def load_results(results_path):
    """The list of result dicts of a COCO results file; a file that is not one is a DatasetError."""
    try:
        with open(results_path, encoding='utf-8') as stream:
            results = json.load(stream)
    except OSError as error:
        raise DatasetError(results_path, 'cannot read the results file (%s)' % error.strerror) from error
    except json.JSONDecodeError as error:
        raise DatasetError(results_path, 'JSON does not parse (%s)' % error) from error
    required = {'image_id', 'category_id', 'bbox', 'score'}
    if not isinstance(results, list) or any(not isinstance(item, dict) or not required <= set(item)
                                            for item in results):
        raise DatasetError(results_path, 'not a COCO results file: a list of {image_id, '
                                'category_id, bbox, score} dicts')
    return results


def evaluate_results_file(annotation_file, results_path, verbose=True):
    """COCOeval of an existing results file against an annotation file (every image of the
    annotations, as pycocotools' own example)."""
    coco_gt, results = coco.load_coco(annotation_file), load_results(results_path)
    try:
        return evaluate_results(coco_gt, results, verbose=verbose)
    except AssertionError as error:  # pycocotools' loadRes: image ids outside the annotations
        raise DatasetError(results_path, 'its results do not fit %s (%s)'
                           % (annotation_file, error or 'image ids outside the annotations')) from error


def format_table(evaluation):
    """The twelve numbers, then the per-category AP, as printable lines."""
    lines = ['%-6s %.4f' % (name, value) for name, value in evaluation['stats'].items()]
    lines += ['', '%-24s %s' % ('category', 'AP')]
    lines += ['%-24s %.4f' % (name, ap) for name, ap in evaluation['per_category'].items()]
    return lines


def _coco_image_id(source_id, known_ids, files, coco_json):
    """The COCO image id a record's ``source_id`` names (the converter writes str(id))."""
    try:
        image_id = int(source_id)
    except ValueError:
        image_id = None
    if image_id not in known_ids:
        raise DatasetError(','.join(files), 'a record\'s source_id %r is no image id of %s: were '
                           'these TFRecords converted from it (convert_to_tfrecord.py '
                           '--dataset_format=coco)?' % (source_id, coco_json))
    return image_id


def evaluate_checkpoint(checkpoint_path, coco_json, image_dir, results_path, max_images=None,
                        options=inference.DetectionOptions(), batch_size=1, tfrecord_files=None):
    """Runs the checkpoint on the JSON's images (the first ``max_images``, by id), writes the COCO
    results file to ``results_path`` and returns `evaluate_results`' dict with ``num_images``,
    ``num_detections``, ``checkpoint`` and ``model_name``.

    ``tfrecord_files``: read the images from these COCO-converted TFRecords instead of
    ``image_dir`` (each record's ``source_id`` is its COCO image id, as the converter writes it);
    the evaluation covers the images they hold (all of them: ``max_images`` does not apply), and a
    record whose image the JSON lacks is a DatasetError naming the shard.
    """
    prefix, settings = inference.model_settings(checkpoint_path)
    coco_gt = coco.load_coco(coco_json)
    category_to_class, _ = coco.category_map(coco_gt, settings['class_names'], coco_json)
    class_to_category = {class_id: category for category, class_id in category_to_class.items()}
    files = list(tfrecord_files or ())
    if files:
        dataset_fn = lambda: inference.tfrecord_dataset(files, settings, batch_size)  # noqa: E731
        image_ids, num_images = [], None
    else:
        image_ids = sorted(coco_gt.getImgIds())[:max_images]
        images = coco_gt.loadImgs(image_ids)
        paths = [os.path.join(image_dir, image['file_name']) for image in images]
        dataset_fn = lambda: inference.image_files_dataset(  # noqa: E731
            paths, [str(image['id']) for image in images], settings, batch_size)
        num_images = len(paths)
    results = []
    known_ids = set(coco_gt.getImgIds()) if files else None
    # A damaged record: TensorFlow names neither the shard nor the record; they are found and named.
    with tfrecord_io.damaged_records_named(lambda: files):
        for image in inference.iterate_detections(dataset_fn, settings, prefix, num_images=num_images,
                                                  **options.keywords(settings['model_name'])):
            if files:
                image_ids.append(_coco_image_id(image[fields.source_id], known_ids, files, coco_json))
            height, width = (int(v) for v in image[fields.original_image_shape][:2])
            results.extend(to_coco_results(image[fields.source_id], image['detection_boxes'],
                                           image['detection_scores'], image['detection_classes'],
                                           height, width, class_to_category))
    atomic_io.write_file_atomically(results_path, json.dumps(results).encode('utf-8'))
    return {**evaluate_results(coco_gt, results, image_ids), 'num_images': len(image_ids),
            'num_detections': len(results), 'checkpoint': prefix,
            'model_name': settings['model_name']}
