"""COCO evaluation with pycocotools (engine/coco_evaluation.py), of a checkpoint or of a results file.

    python scripts/eval_coco.py --checkpoint_path=train/rfcn \\
        --annotation_file=coco/annotations/instances_val2017.json --image_dir=coco/val2017 \\
        --results_file=results/rfcn_val2017.json --output_json=results/rfcn_val2017_metrics.json

runs the checkpoint (its model from its JSON) on the images the annotation file lists (--max_images:
the first n by id) and writes --results_file, COCO's results format (``[{"image_id",
"category_id", "bbox": [x, y, w, h], "score"}]``, pixels of the original image, the file's category
ids), which pycocotools loads unchanged; --tfrecord_pattern reads the images from TFRecords converted
from the annotation file instead. Without --checkpoint_path it evaluates an existing
--results_file. Prints COCOeval's twelve numbers (AP at IoU .50:.95, AP50, AP75, APs, APm, APl;
AR1, AR10, AR100, ARs, ARm, ARl) and each category's AP, and writes them to --output_json. The
post-processing is the model's evaluation default (R-FCN: score > 0.001, per-class NMS 0.3, 100
detections per image, COCO's maxDets) unless overridden.
"""
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
from absl import flags

from tf1zoo.datasets import input_pipeline
from tf1zoo.engine import checkpoint_info, cli, coco_evaluation, inference


def define_flags(flag_values=flags.FLAGS):
    define = cli.Definer(flag_values)
    define.string('annotation_file', None, 'COCO instances JSON (the ground truth).')
    define.string('results_file', None, 'COCO results file: written from --checkpoint_path, or '
                  'evaluated as it is without one.')
    define.string('checkpoint_path', None, 'A train dir (its latest checkpoint) or checkpoint to run.')
    define.string('image_dir', None, 'Folder of the annotation file\'s file_names (with a checkpoint).')
    define.string('tfrecord_pattern', None, 'With a checkpoint: read the images from these TFRecords '
                  '(converted from the annotation file: convert_to_tfrecord.py --dataset_format=coco) '
                  'instead of --image_dir; the ground truth is the annotation file\'s.')
    define.string('output_json', None, 'Where the numbers go (optional).')
    define.integer('max_images', None, 'Evaluate the first n images by id (default: all).')
    define.float('score_threshold', None, 'Override the model\'s score threshold.')
    define.float('iou_threshold', None, 'Override the model\'s per-class NMS threshold.')
    define.integer('keep_top_k', None, 'Override the detections kept per image.')
    define.required(['annotation_file', 'results_file'])


def run(values):
    # 1. A checkpoint's detections into the results file, or the results file as it is.
    if values.checkpoint_path:
        if bool(values.image_dir) == bool(values.tfrecord_pattern):
            raise ValueError('--checkpoint_path needs --image_dir (the annotation file\'s images) or '
                             '--tfrecord_pattern (its converted TFRecords), one of them')
        files = input_pipeline.list_files(values.tfrecord_pattern) if values.tfrecord_pattern else None
        options = inference.DetectionOptions(score_threshold=values.score_threshold,
                                             iou_threshold=values.iou_threshold,
                                             keep_top_k=values.keep_top_k)
        result = coco_evaluation.evaluate_checkpoint(
            values.checkpoint_path, values.annotation_file, values.image_dir, values.results_file,
            max_images=values.max_images, options=options, tfrecord_files=files)
    else:
        result = coco_evaluation.evaluate_results_file(values.annotation_file, values.results_file)
    # 2. The numbers.
    if values.output_json:
        checkpoint_info.write_json_atomically(values.output_json, result)
    return result


def main(values):
    print('\n'.join(coco_evaluation.format_table(run(values))))


if __name__ == '__main__':
    cli.run_as_program(define_flags, main)
