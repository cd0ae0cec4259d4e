"""Detects objects in image files with a trained or converted checkpoint.

    python scripts/detect.py --model_name=ssd_vgg_300 --checkpoint_path=train/ssd300 \\
        --images=photos/ --output_dir=detections/

Writes <output_dir>/detections.json, mapping each image file name to a list of
``{"class_id", "class_name", "score", "box": [ymin, xmin, ymax, xmax]}`` (box normalised to the image),
and <output_dir>/<image name>.png with the labelled boxes. Thresholds default to the model's
(SSD300: score 0.01, NMS 0.45, keep 200, as its Caffe deploy); for pictures, --select_threshold=0.5 is
a usual choice.
"""
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
import functools
import os

import cv2
import numpy as np
from absl import flags

from tf1zoo.datasets import atomic_io, standard_fields
from tf1zoo.ops import visualization
from tf1zoo.scripts import checkpoint_info, inference_lib, script_flags

fields = standard_fields.InputDataFields
FLAGS = flags.FLAGS


def define_flags(flag_values=flags.FLAGS):
    define = script_flags.Definer(flag_values)
    define.string('checkpoint_path', None, 'Checkpoint file prefix or training folder.')
    define.string('images', None, 'An image file, a folder of images, or a comma-separated list.')
    define.string('output_dir', None, 'Where detections.json and the PNGs are written.')
    inference_lib.define_model_flags(define)
    define.list('class_names', None, 'Class names, if the checkpoint records none.')
    define.integer('batch_size', 1, 'Images per batch.')
    define.bool('write_images', True, 'Write a PNG with the boxes drawn for each image.')
    define.float('draw_threshold', 0.5, 'Least score of a box drawn in the PNGs (the JSON '
                       'keeps every detection).')
    define.required(['checkpoint_path', 'images', 'output_dir'])


def detection_records(image, class_names):
    """The JSON list of one image's detections; boxes clipped to the image."""
    return [{'class_id': int(class_id), 'class_name': class_names[int(class_id) - 1],
             'score': float(score), 'box': [float(v) for v in np.clip(box, 0.0, 1.0)]}
            for box, score, class_id in zip(image['detection_boxes'], image['detection_scores'],
                                            image['detection_classes'])]


def run(values):
    """Detects in every image; returns the detections dict written to detections.json."""
    prefix, settings = inference_lib.model_settings_from_flags(values, class_names=values.class_names)
    paths = inference_lib.list_images(values.images)
    names = [os.path.basename(path) for path in paths]
    if len(set(names)) != len(names):
        raise ValueError('image file names must be unique (they key detections.json)')
    dataset_fn = functools.partial(inference_lib.image_files_dataset, paths, names, settings,
                                   values.batch_size)
    os.makedirs(values.output_dir, exist_ok=True)
    results = {}
    for image in inference_lib.iterate_detections(
            dataset_fn, settings, prefix, num_images=len(paths),
            **inference_lib.detection_options(values)):
        results[image[fields.source_id]] = detection_records(image, settings['class_names'])
        if values.write_images:
            _write_picture(image, settings['class_names'], values.output_dir, values.draw_threshold)
    checkpoint_info.write_json_atomically(os.path.join(values.output_dir, 'detections.json'), results)
    return results


def _write_picture(image, class_names, output_dir, draw_threshold):
    pixels = cv2.imread(image[fields.filename], cv2.IMREAD_COLOR)
    if pixels is None:
        raise ValueError('cannot read image %s' % image[fields.filename])
    shown = image['detection_scores'] >= draw_threshold
    picture = visualization.draw_detections(
        cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB), image['detection_boxes'][shown],
        image['detection_classes'][shown], image['detection_scores'][shown], class_names)
    name = os.path.splitext(image[fields.source_id])[0] + '.png'
    path = os.path.join(output_dir, name)
    ok, png = cv2.imencode('.png', picture)  # draw_detections gives BGR, as OpenCV writes it
    if not ok:
        raise ValueError('OpenCV cannot encode the picture for %s' % path)
    atomic_io.write_file_atomically(path, png.tobytes())


def main(values):
    results = run(values)
    print('Detections for %d images written to %s' % (len(results), values.output_dir))


if __name__ == '__main__':
    script_flags.run_as_program(define_flags, main)
