"""Detecting objects in image files with a checkpoint: a JSON of every detection and labelled pictures.

`detect_images` runs `inference.iterate_detections` over image files and writes
``<output_dir>/detections.json``, mapping each image file name to a list of
``{"class_id", "class_name", "score", "box": [ymin, xmin, ymax, xmax]}`` (box normalised to the image,
clipped to it), and, with ``write_images``, ``<output_dir>/<image name>.png`` with the boxes of score
``>= draw_threshold`` drawn and labelled.
"""
import functools
import os

import cv2
import numpy as np

from tf1zoo.engine import checkpoint_info, inference
from tf1zoo.ops import atomic_io, standard_fields, visualization

fields = standard_fields.InputDataFields
DETECTIONS_FILE = 'detections.json'


def detection_records(image, class_names):
    """The JSON list of one image's detections; boxes clipped to the image."""
    return [{'class_id': int(class_id), 'class_name': class_names[int(class_id) - 1],
             'score': float(score), 'box': [float(v) for v in np.clip(box, 0.0, 1.0)]}
            for box, score, class_id in zip(image['detection_boxes'], image['detection_scores'],
                                            image['detection_classes'])]


def detect_images(checkpoint_prefix, settings, paths, output_dir, batch_size=1,
                  options=inference.DetectionOptions(), write_images=True, draw_threshold=0.5):
    """Detects in every image of ``paths``; returns the dict written to detections.json.

    ``settings``: `inference.model_settings`' dict (its class names label the detections).

    Raises:
      ValueError: two images share a file name (they key the JSON), or a picture cannot be drawn.
    """
    names = [os.path.basename(path) for path in paths]
    if len(set(names)) != len(names):
        raise ValueError('image file names must be unique (they key %s)' % DETECTIONS_FILE)
    dataset_fn = functools.partial(inference.image_files_dataset, paths, names, settings, batch_size)
    os.makedirs(output_dir, exist_ok=True)
    results = {}
    for image in inference.iterate_detections(dataset_fn, settings, checkpoint_prefix,
                                              num_images=len(paths),
                                              **options.keywords(settings['model_name'])):
        results[image[fields.source_id]] = detection_records(image, settings['class_names'])
        if write_images:
            write_picture(image, settings['class_names'], output_dir, draw_threshold)
    checkpoint_info.write_json_atomically(os.path.join(output_dir, DETECTIONS_FILE), results)
    return results


def write_picture(image, class_names, output_dir, draw_threshold):
    """``<output_dir>/<image name>.png``: the image file with its detections of score >= the
    threshold drawn."""
    pixels = cv2.imread(image[fields.filename], cv2.IMREAD_COLOR)
    if pixels is None:
        raise ValueError('cannot read image %s' % image[fields.filename])
    shown = image['detection_scores'] >= draw_threshold
    picture = visualization.draw_detections(
        cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB), image['detection_boxes'][shown],
        image['detection_classes'][shown], image['detection_scores'][shown], class_names)
    path = os.path.join(output_dir, os.path.splitext(image[fields.source_id])[0] + '.png')
    ok, png = cv2.imencode('.png', picture)  # draw_detections gives BGR, as OpenCV writes it
    if not ok:
        raise ValueError('OpenCV cannot encode the picture for %s' % path)
    atomic_io.write_file_atomically(path, png.tobytes())
