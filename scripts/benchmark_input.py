"""Measures the training input pipeline: decode + SSD augmentation + padded batching, in images/s.

    python scripts/benchmark_input.py --dataset_name=shapes --dataset_dir=work_dirs/shapes/tfrecords \\
        --output_json=benchmarks/input_pipeline.json

Prints and writes (JSON) the throughput after a warm-up, with the machine's CPU count.
"""
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
import json

from absl import flags

from tf1zoo.engine import benchmarking, checkpoint_info, cli


def define_flags(flag_values=flags.FLAGS):
    define = cli.Definer(flag_values)
    define.string('dataset_name', 'shapes', 'Dataset from datasets/dataset_factory.py.')
    define.string('dataset_dir', None, 'Folder of the converted TFRecords.')
    define.string('split', 'trainval', 'Split to read.')
    define.string('preprocessing_name', 'ssd_300', 'Preprocessing from preprocessing_factory.')
    define.integer('batch_size', 32, 'Images per batch.')
    define.integer('warmup_batches', 5, 'Batches read before timing starts.')
    define.integer('num_batches', 50, 'Batches timed.')
    define.string('output_json', None, 'Where to write the result (optional).')
    define.required(['dataset_dir'])


def run(values):
    """Times the pipeline; returns the result dict."""
    # 1. Time the pipeline.
    result = benchmarking.input_pipeline_images_per_second(
        values.dataset_name, values.dataset_dir, values.split, values.preprocessing_name,
        values.batch_size, values.warmup_batches, values.num_batches)
    # 2. Print, and write the JSON.
    print(json.dumps(result, indent=2))
    if values.output_json:
        checkpoint_info.write_json_atomically(values.output_json, result)
    return result


if __name__ == '__main__':
    cli.run_as_program(define_flags, run)
