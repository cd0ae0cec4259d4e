"""Detects objects in image files with a trained or converted checkpoint.

    python scripts/detect.py --checkpoint_path=train/ssd300 --images=photos/ --output_dir=detections/

Writes <output_dir>/detections.json, mapping each image file name to a list of
``{"class_id", "class_name", "score", "box": [ymin, xmin, ymax, xmax]}`` (box normalised to the image),
and <output_dir>/<image name>.png with the labelled boxes. The model, its classes and its input
convention come from the checkpoint's JSON (--model_name, --class_names or --label_map where it has
none). Thresholds default to the model's (SSD300: score 0.01, NMS 0.45, keep 200, as its Caffe
deploy, where --select_threshold=0.5 is a usual choice for pictures; YOLO v1: darknet's test_yolo,
score 0.2 and NMS 0.4).
"""
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
from absl import flags

from tf1zoo.datasets import label_map
from tf1zoo.engine import cli, detection, inference


def define_flags(flag_values=flags.FLAGS):
    define = cli.Definer(flag_values)
    define.string('checkpoint_path', None, 'Checkpoint file prefix or training folder.')
    define.string('images', None, 'An image file, a folder of images, or a comma-separated list.')
    define.string('output_dir', None, 'Where detections.json and the PNGs are written.')
    inference.define_model_flags(define)
    define.list('class_names', None, 'Class names, if the checkpoint records none.')
    define.string('label_map', None, 'Class names from a label map, if the checkpoint records none.')
    define.integer('batch_size', 1, 'Images per batch.')
    define.bool('write_images', True, 'Write a PNG with the boxes drawn for each image.')
    define.float('draw_threshold', 0.5, 'Least score of a box drawn in the PNGs (the JSON '
                 'keeps every detection).')
    define.required(['checkpoint_path', 'images', 'output_dir'])


def run(values):
    """Detects in every image; returns the detections dict written to detections.json."""
    # 1. The model and its classes: the checkpoint's JSON, then the flags.
    class_names = (label_map.read_label_map(values.label_map) if values.label_map
                   else values.class_names)
    prefix, settings = inference.model_settings_from_flags(values, class_names=class_names)
    # 2. The images.
    paths = inference.list_images(values.images)
    # 3. Detect with the model's picture thresholds unless the flags set them; write
    #    detections.json and the pictures.
    options = inference.with_display_defaults(inference.detection_options(values),
                                              settings['model_name'])
    return detection.detect_images(prefix, settings, paths, values.output_dir, values.batch_size,
                                   options, values.write_images, values.draw_threshold)


def main(values):
    results = run(values)
    print('Detections for %d images written to %s' % (len(results), values.output_dir))


if __name__ == '__main__':
    cli.run_as_program(define_flags, main)
