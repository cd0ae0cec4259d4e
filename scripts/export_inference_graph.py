"""Exports a trained or converted detector for serving: a SavedModel and a frozen GraphDef.

    python scripts/export_inference_graph.py --checkpoint_path=train/ssd300 --output_dir=export/ssd300

Writes <output_dir>/saved_model/ (signature ``serving_default``: uint8 images ``[batch, height,
width, 3]`` of any size under the key ``inputs``), <output_dir>/frozen_inference_graph.pb (input
``image_tensor:0``) and <output_dir>/model_config.json. Both graphs hold the preprocessing and the
post-processing and give the TF Object Detection API's outputs: ``detection_boxes`` (normalised
``[ymin, xmin, ymax, xmax]``), ``detection_scores``, ``detection_classes`` (1-based, float) and
``num_detections``; a process with TensorFlow alone loads them (engine/export.py says how). The
model comes from the checkpoint's JSON; thresholds default to detect.py's (the model's picture
thresholds), so the export gives the detections detect.py gives.
"""
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
from absl import flags

from tf1zoo.datasets import label_map
from tf1zoo.engine import cli, export, inference


def define_flags(flag_values=flags.FLAGS):
    define = cli.Definer(flag_values)
    define.string('checkpoint_path', None, 'Checkpoint file prefix or training folder.')
    define.string('output_dir', None, 'New (or empty) folder for the export.')
    inference.define_model_flags(define)
    define.list('class_names', None, 'Class names, if the checkpoint records none.')
    define.string('label_map', None, 'Class names from a label map, if the checkpoint records none.')
    define.required(['checkpoint_path', 'output_dir'])


def run(values):
    """Exports; returns the output folder."""
    # 1. The model and its classes: the checkpoint's JSON, then the flags.
    class_names = (label_map.read_label_map(values.label_map) if values.label_map
                   else values.class_names)
    prefix, settings = inference.model_settings_from_flags(values, class_names=class_names)
    # 2. detect.py's thresholds unless the flags set them.
    options = inference.with_display_defaults(inference.detection_options(values),
                                              settings['model_name'])
    # 3. The SavedModel, the frozen graph and the settings, renamed into place together.
    return export.export_detector(prefix, settings, values.output_dir, options)


def main(values):
    output_dir = run(values)
    print('Exported %s to %s (%s/, %s)' % (values.checkpoint_path, output_dir, export.SAVED_MODEL_DIR,
                                           export.FROZEN_GRAPH_FILE))


if __name__ == '__main__':
    cli.run_as_program(define_flags, main)
