"""The exported SavedModel's latency beside detect.py's graph, measured in one run.

    python scripts/benchmark_serving.py --model_name=ssd_vgg_300 --output_json=benchmarks/serving.json

A random-weight checkpoint of the full-width detector is exported (export_inference_graph.py's
engine) and timed at each batch size against the graph detect.py and eval_voc.py run, on the same
uint8 images held in memory (engine/serving_benchmark.py); prints each round's ratio and writes JSON.
"""
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
from absl import flags

from tf1zoo.engine import checkpoint_info, cli, inference, serving_benchmark
from tf1zoo.nets import nets_factory


def define_flags(flag_values=flags.FLAGS):
    define = cli.Definer(flag_values)
    define.enum('model_name', 'ssd_vgg_300', sorted(nets_factory.MODELS), 'Detector to export.')
    define.float('depth_multiplier', 1.0, 'Depth multiplier (1.0 is the paper\'s net).')
    define.list('batch_sizes', ['1', '8'], 'Batch sizes.')
    define.integer('image_height', 375, 'Height of the uint8 input images.')
    define.integer('image_width', 500, 'Width of the uint8 input images.')
    define.enum('winograd', 'auto', list(inference.WINOGRAD_CHOICES), 'As detect.py\'s --winograd.')
    define.integer('warmup_iters', 2, 'Untimed runs before each timing.')
    define.integer('num_iters', 5, 'Timed runs per round (their median is the round\'s time).')
    define.integer('rounds', 3, 'Rounds, the two systems one after the other in each.')
    define.string('output_json', None, 'Where to write the results (optional).')


def run(values):
    settings = serving_benchmark.ServingSettings(
        model_name=values.model_name, depth_multiplier=values.depth_multiplier,
        batch_sizes=tuple(int(size) for size in values.batch_sizes),
        image_height=values.image_height, image_width=values.image_width, winograd=values.winograd,
        warmup_iters=values.warmup_iters, num_iters=values.num_iters, rounds=values.rounds)
    result = serving_benchmark.measure(settings)
    for line in serving_benchmark.summarise(result):
        print(line)
    if values.output_json:
        checkpoint_info.write_json_atomically(values.output_json, result)
    return result


if __name__ == '__main__':
    cli.run_as_program(define_flags, run)
