"""COCO evaluation of a checkpoint with pycocotools (engine/coco_evaluation.py).

    python scripts/eval_coco.py --checkpoint_path=train/rfcn \\
        --coco_json=coco/annotations/instances_val2017.json --image_dir=coco/val2017 \\
        --results_json=results/rfcn_val2017.json --output_json=results/rfcn_val2017_metrics.json

Runs the checkpoint (its model from its JSON) on the images the COCO JSON lists (--max_images: the
first n by id), writes the COCO results file (``[{"image_id", "category_id", "bbox": [x, y, w, h],
"score"}]``, pixels of the original image) and prints COCOeval's twelve numbers (AP at IoU
.50:.05:.95, AP50, AP75, by size; AR at 1, 10, 100 detections, by size), also written to
--output_json. The post-processing is the model's evaluation default (R-FCN: score > 0.001,
per-class NMS 0.3, 100 detections per image, COCO's maxDets) unless overridden.
"""
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
import json

from absl import flags

from tf1zoo.engine import checkpoint_info, cli, coco_evaluation, inference


def define_flags(flag_values=flags.FLAGS):
    define = cli.Definer(flag_values)
    define.string('checkpoint_path', None, 'A train dir (its latest checkpoint) or checkpoint.')
    define.string('coco_json', None, 'COCO instances JSON of the images to evaluate.')
    define.string('image_dir', None, 'Folder of the JSON\'s file_names.')
    define.string('results_json', None, 'Where the COCO results file goes.')
    define.string('output_json', None, 'Where the metrics go (optional).')
    define.integer('max_images', None, 'Evaluate the first n images by id (default: all).')
    define.float('score_threshold', None, 'Override the model\'s score threshold.')
    define.float('iou_threshold', None, 'Override the model\'s per-class NMS threshold.')
    define.integer('keep_top_k', None, 'Override the detections kept per image.')
    define.required(['checkpoint_path', 'coco_json', 'image_dir', 'results_json'])


def run(values):
    # 1. How to run the checkpoint.
    options = inference.DetectionOptions(score_threshold=values.score_threshold,
                                         iou_threshold=values.iou_threshold,
                                         keep_top_k=values.keep_top_k)
    # 2. Detections -> the results file -> COCOeval.
    result = coco_evaluation.evaluate_checkpoint(values.checkpoint_path, values.coco_json,
                                                 values.image_dir, values.results_json,
                                                 max_images=values.max_images, options=options)
    # 3. The metrics.
    if values.output_json:
        checkpoint_info.write_json_atomically(values.output_json, result)
    return result


def main(values):
    print(json.dumps(run(values)['metrics'], indent=2))


if __name__ == '__main__':
    cli.run_as_program(define_flags, main)
