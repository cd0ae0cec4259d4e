"""SSD300's speed on this machine, beside its peers, in one run.

    TF_ENABLE_ONEDNN_OPTS=1 python scripts/benchmark_speed.py --output_json=benchmarks/speed.json

Measures, for the full-width SSD300 (or --model_name=refinedet320; or thinned by --depth_multiplier):

* inference latency per batch (network + DetectionOutput post-processing) at each --batch_sizes, for
  each --tf_variants: TF's direct convolutions, Winograd ones (`ops/winograd.py`: F(6x6, 3x3) or
  F(4x4, 3x3) per layer, or F(4x4) everywhere), and
  XLA auto-clustering. The kernels are Eigen's on an AVX2 CPU unless ``TF_ENABLE_ONEDNN_OPTS=1`` is
  set (TF's x86 wheel turns oneDNN on by itself only on AVX-512 VNNI / AMX CPUs); the JSON records
  which ran;
* training images/s (MultiBox loss + Momentum step) at --train_batch_size;
* the same for torchvision's ``ssd300_vgg16`` (random weights; its own pre- and post-processing) where
  torch is installed, and OpenCV 4.x DNN running the official deploy prototxt with random weights;
* the hardware bound: the net's FLOPs (TF's profiler) over the throughput a single plain 3x3
  convolution reaches in TensorFlow here.

Everything runs --rounds times, the systems one after the other in each round; ratios are taken
within a round and their median reported. Inputs are random 300 x 300 images (network inputs, already
normalised) and random ground truth; a round's timing is the median of --num_iters runs after
--warmup_iters. Prints a table and writes JSON.
"""
from tf1zoo.ops import compat  # (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
import json
import os
import platform
import subprocess
import sys
import tempfile

import cv2
import numpy as np
import tensorflow.compat.v1 as tf
import tqdm
from absl import flags

from tf1zoo.converters import caffe_proto, caffe_weights
from tf1zoo.nets import nets_factory
from tf1zoo.ops import winograd
from tf1zoo.scripts import benchmark_torchvision, checkpoint_info, script_flags

FLAGS = flags.FLAGS
median_seconds = benchmark_torchvision.median_seconds
_DEFAULT_DEPLOY = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared',
                               'reference', 'caffe', 'ssd300_vgg16_voc0712_deploy.prototxt')
_IMAGE_SIZE = 300
_NUM_CLASSES = 21


def define_flags(flag_values=flags.FLAGS):
    define = script_flags.Definer(flag_values)
    define.enum('model_name', 'ssd_vgg_300', sorted(nets_factory.MODELS),
                'Detector to time; the peers (other SSD300s) run for the full-width ssd_vgg_300 only.')
    define.list('batch_sizes', ['1', '8'], 'Inference batch sizes.')
    define.integer('train_batch_size', 8, 'Training batch size (0: no training measurement).')
    define.float('depth_multiplier', 1.0, 'Depth multiplier (1.0 is the paper\'s net).')
    define.integer('warmup_iters', 1, 'Untimed runs before each timing.')
    define.integer('num_iters', 3, 'Timed runs per round (their median is the round\'s time).')
    define.integer('rounds', 3, 'Times the whole set of measurements runs, the systems one after the '
                   'other in each, so that a drift of the machine\'s speed hits all alike; speed-ups '
                   'are taken within a round and their median over rounds reported.')
    define.list('tf_variants', list(TF_VARIANTS), 'This repository\'s configurations to time: direct '
                '(TF\'s convolutions), winograd (ops/winograd.py, F(6x6) or F(4x4) per layer; inference '
                'only), winograd4 (F(4x4) everywhere), xla '
                '(direct, XLA auto-clustering).')
    define.list('peers', ['torchvision', 'opencv'], 'Peers to measure where installed.')
    define.string('deploy_prototxt', _DEFAULT_DEPLOY, 'SSD300 deploy prototxt for the OpenCV peer.')
    define.string('output_json', None, 'Where to write the results (optional).')


def _image_size(values):
    return nets_factory.get_model_spec(values.model_name).image_size


def _random_inputs(rng, batch_size, values):
    """Network inputs: random [batch, size, size, 3] pixels minus a mean, as the preprocessing gives."""
    size = _image_size(values)
    return rng.uniform(-120, 130, (batch_size, size, size, 3)).astype(np.float32)


# --tf_variants value -> (name in the results, winograd_tile_size, XLA auto-clustering, trains).
TF_VARIANTS = {'direct': ('tensorflow', None, False, True),
               'winograd': ('tensorflow_winograd', winograd.ADAPTIVE, False, False),
               'winograd4': ('tensorflow_winograd4', 4, False, False),
               'xla': ('tensorflow_xla', None, True, True)}


def _session_config(xla):
    config = tf.ConfigProto()
    if xla:
        config.graph_options.optimizer_options.global_jit_level = tf.OptimizerOptions.ON_1
    return config


def _random_groundtruth(batch_size, rng):
    centers = rng.uniform(0.2, 0.8, (batch_size, 2, 2))
    sizes = rng.uniform(0.1, 0.4, (batch_size, 2, 2))
    boxes = np.concatenate([centers - sizes / 2, centers + sizes / 2], axis=-1).astype(np.float32)
    return {'groundtruth_boxes': tf.constant(boxes),
            'groundtruth_classes': tf.constant(rng.integers(1, _NUM_CLASSES, (batch_size, 2)), tf.int32),
            'num_groundtruth_boxes': tf.fill([batch_size], 2)}


def tf_inference_seconds(batch_size, values, xla, winograd_tile_size=None):
    """Seconds per batch of the detector's inference, post-processing included."""
    rng = np.random.default_rng(0)
    images = _random_inputs(rng, batch_size, values)
    with tf.Graph().as_default():
        detector = nets_factory.get_model_spec(values.model_name).build(
            _NUM_CLASSES, depth_multiplier=values.depth_multiplier,
            winograd_tile_size=winograd_tile_size)
        inputs = tf.placeholder(tf.float32, images.shape)
        predictions, _ = detector.predict(inputs, is_training=False)
        detections = detector.postprocess(predictions)
        with tf.Session(config=_session_config(xla)) as session:
            session.run(tf.global_variables_initializer())
            session.run(tf.local_variables_initializer())  # Winograd's filter caches
            return median_seconds(lambda: session.run(detections, {inputs: images}),
                                   values.warmup_iters, values.num_iters)


def tf_training_seconds(batch_size, values, xla):
    """Seconds per training step: forward, MultiBox loss, backward, Momentum update."""
    rng = np.random.default_rng(0)
    with tf.Graph().as_default():
        detector = nets_factory.get_model_spec(values.model_name).build(
            _NUM_CLASSES, depth_multiplier=values.depth_multiplier)
        images = tf.constant(_random_inputs(rng, batch_size, values))
        predictions, _ = detector.predict(images, is_training=True)
        losses = detector.loss(predictions, _random_groundtruth(batch_size, rng))
        total = tf.add_n(list(losses.values()) + [tf.losses.get_regularization_loss()])
        train_op = tf.train.MomentumOptimizer(1e-4, 0.9).minimize(total)
        with tf.Session(config=_session_config(xla)) as session:
            session.run(tf.global_variables_initializer())
            return median_seconds(lambda: session.run(train_op), values.warmup_iters,
                                   values.num_iters)


def tf_forward_flops(values):
    """Floating-point operations of one image's forward pass (TF's profiler: 2 per multiply-add)."""
    with tf.Graph().as_default() as graph:
        detector = nets_factory.get_model_spec(values.model_name).build(
            _NUM_CLASSES, depth_multiplier=values.depth_multiplier)
        detector.predict(tf.zeros([1, _image_size(values), _image_size(values), 3]), is_training=False)
        options = tf.profiler.ProfileOptionBuilder.float_operation()
        options['output'] = 'none'
        return tf.profiler.profile(graph, options=options).total_float_ops


def tf_conv_flops_per_second(values):
    """Throughput of one plain 3x3 convolution (conv3_3's shape, 75 x 75 x 256 -> 256) with its ReLU.

    The input is fed, not a constant, so that grappler cannot fold the convolution away.
    """
    rng = np.random.default_rng(0)
    feature_map = rng.normal(size=(1, 75, 75, 256)).astype(np.float32)
    with tf.Graph().as_default():
        inputs = tf.placeholder(tf.float32, feature_map.shape)
        kernel = tf.Variable(rng.normal(size=(3, 3, 256, 256)).astype(np.float32))
        output = tf.reduce_sum(tf.nn.relu(tf.nn.conv2d(inputs, kernel, 1, 'SAME')))
        with tf.Session() as session:
            session.run(kernel.initializer)
            seconds = median_seconds(lambda: session.run(output, {inputs: feature_map}),
                                     values.warmup_iters, max(values.num_iters, 10))
    return 2 * 75 * 75 * 256 * 256 * 9 / seconds


def torchvision_seconds(batch_sizes, train_batch_size, values):
    """{'inference': {batch: s}, 'training': s} for torchvision's ssd300_vgg16, or None without torch.

    Runs benchmark_torchvision.py in its own process: torch and TensorFlow in one process crash here.
    """
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'benchmark_torchvision.py')
    command = [sys.executable, script, '--batch_sizes=%s' % ','.join(map(str, batch_sizes)),
               '--train_batch_size=%d' % train_batch_size, '--warmup_iters=%d' % values.warmup_iters,
               '--num_iters=%d' % values.num_iters]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode == benchmark_torchvision.NO_TORCH_EXIT_CODE:
        return None
    if completed.returncode:
        raise RuntimeError('benchmark_torchvision.py failed:\n%s' % completed.stderr[-2000:])
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    result['inference'] = {int(size): seconds for size, seconds in result['inference'].items()}
    return result


def opencv_seconds(batch_sizes, values):
    """{'inference': {batch: s}} for OpenCV DNN on the deploy prototxt, or None where unavailable."""
    if not os.path.exists(values.deploy_prototxt) or not hasattr(cv2.dnn, 'readNetFromCaffe'):
        return None
    deploy = caffe_proto.read_prototxt(values.deploy_prototxt)
    with tempfile.TemporaryDirectory() as folder:
        caffemodel = os.path.join(folder, 'random.caffemodel')
        caffe_proto.write_caffemodel(caffe_weights.random_caffemodel(deploy), caffemodel)
        net = cv2.dnn.readNetFromCaffe(values.deploy_prototxt, caffemodel)
    result = {'version': 'OpenCV %s' % cv2.__version__, 'threads': cv2.getNumThreads(),
              'inference': {}}
    rng = np.random.default_rng(0)
    for batch_size in batch_sizes:
        blob = rng.uniform(-120, 130, (batch_size, 3, _IMAGE_SIZE, _IMAGE_SIZE)).astype(np.float32)

        def forward():
            net.setInput(blob)
            return net.forward()

        result['inference'][batch_size] = median_seconds(forward, values.warmup_iters, values.num_iters)
    return result


def measure_round(values, batch_sizes):
    """One round: every system's timings, one system after the other (times in seconds)."""
    timings = {'tf_conv3x3_flops_per_second': tf_conv_flops_per_second(values)}
    for variant in values.tf_variants:
        name, winograd_tile_size, xla, trains = TF_VARIANTS[variant]
        timings[name] = {'inference': {size: tf_inference_seconds(size, values, xla, winograd_tile_size)
                                       for size in batch_sizes}}
        if values.train_batch_size and trains:
            timings[name]['training'] = tf_training_seconds(values.train_batch_size, values, xla)
    # The peers are the paper's SSD300: a thinned or other net has none to compare with.
    peers = values.peers if (values.model_name, values.depth_multiplier) == ('ssd_vgg_300', 1.0) else []
    if 'torchvision' in peers:
        timings['torchvision'] = torchvision_seconds(batch_sizes, values.train_batch_size, values)
    if 'opencv' in peers:
        timings['opencv'] = opencv_seconds(batch_sizes, values)
    return timings


def cpu_description(cpuinfo_path='/proc/cpuinfo'):
    """The CPU's model name, family/model numbers and vector extensions, where Linux tells them: the
    development VM's CPU changes between sessions (AVX2-only and AVX-512 parts so far)."""
    try:
        with open(cpuinfo_path) as stream:
            first_cpu = stream.read().split('\n\n')[0]
    except OSError:
        return {}
    fields = dict(line.split(':', 1) for line in first_cpu.splitlines() if ':' in line)
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    flags_present = set(fields.get('flags', '').split())
    return {'cpu_model_name': fields.get('model name'), 'cpu_family': fields.get('cpu family'),
            'cpu_model': fields.get('model'), 'cpu_mhz': fields.get('cpu MHz'),
            'vector_extensions': sorted(flags_present & {'avx2', 'fma', 'avx512f', 'avx512_vnni',
                                                         'avx512_bf16', 'amx_tile'})}


def measure(values):
    """Runs every measurement ``values.rounds`` times; returns the result dict (times in seconds)."""
    for flag, chosen, known in (('tf_variants', values.tf_variants, TF_VARIANTS),
                                ('peers', values.peers, ('torchvision', 'opencv'))):
        unknown = sorted(set(chosen) - set(known))
        if unknown:
            raise ValueError('--%s: unknown %s; known: %s' % (flag, ', '.join(unknown), ', '.join(known)))
    batch_sizes = [int(size) for size in values.batch_sizes]
    result = {'machine': {'cpu_count': os.cpu_count(), 'processor': platform.processor() or
                          platform.machine(), **cpu_description(), 'tensorflow': tf.__version__,
                          'TF_ENABLE_ONEDNN_OPTS': os.environ.get('TF_ENABLE_ONEDNN_OPTS'),
                          'onednn_kernels': compat.onednn_enabled()},
              'model_name': values.model_name, 'depth_multiplier': values.depth_multiplier,
              'flops_per_image': tf_forward_flops(values), 'rounds': []}
    for _ in tqdm.trange(values.rounds, desc='rounds'):
        result['rounds'].append(measure_round(values, batch_sizes))
    return result


_OURS = tuple(name for name, _, _, _ in TF_VARIANTS.values())
_SYSTEMS = _OURS + ('torchvision', 'opencv')


def _round_ratios(timings, batch_sizes):
    """{name: ratio} of one round: each peer's seconds over ours (above 1: ours is faster), and our
    per-image latency over the round's bound."""
    ratios = {}
    bound = timings['bound_seconds_per_image']
    for ours in (name for name in _OURS if timings.get(name)):
        for size in batch_sizes:
            ratios['%s_batch%d_latency_over_bound' % (ours, size)] = (
                timings[ours]['inference'][size] / size / bound)
        for peer in ('torchvision', 'opencv'):
            if not timings.get(peer):
                continue
            for size in batch_sizes:
                ratios['%s_vs_%s_batch%d' % (ours, peer, size)] = (
                    timings[peer]['inference'][size] / timings[ours]['inference'][size])
            if 'training' in timings[peer] and 'training' in timings[ours]:
                ratios['%s_vs_%s_training' % (ours, peer)] = (
                    timings[peer]['training'] / timings[ours]['training'])
    return ratios


def summarise(result, batch_sizes, train_batch_size):
    """Adds per-image numbers, per-round ratios and their medians (what the README reports); returns
    printable lines.

    Ratios are taken within a round, where the systems ran minutes apart, and only then summarised
    over rounds: this machine's speed drifts by 20-30% between sessions and by several percent within
    one, which would otherwise enter the ratios.
    """
    rounds = result['rounds']
    for timings in rounds:
        timings['bound_seconds_per_image'] = (result['flops_per_image']
                                              / timings['tf_conv3x3_flops_per_second'])
        for entry in (timings[name] for name in _SYSTEMS if timings.get(name)):
            entry['ms_per_image'] = {size: entry['inference'][size] / size * 1e3 for size in batch_sizes}
            if 'training' in entry:
                entry['training_images_per_second'] = train_batch_size / entry['training']
        timings['ratios'] = _round_ratios(timings, batch_sizes)
    result['ratios'] = {name: float(np.median([timings['ratios'][name] for timings in rounds]))
                       for name in rounds[0]['ratios']}
    lines = ['%s (depth %.3g): %.2f GFLOP per image; per round, a plain 3x3 convolution runs at %s '
             'GFLOP/s, so the bound is %s ms per image'
             % (result['model_name'], result['depth_multiplier'], result['flops_per_image'] / 1e9,
                _per_round(rounds, lambda timings: timings['tf_conv3x3_flops_per_second'] / 1e9),
                _per_round(rounds, lambda timings: timings['bound_seconds_per_image'] * 1e3))]
    for name in (name for name in _SYSTEMS if rounds[0].get(name)):
        for size in batch_sizes:
            lines.append('%-15s batch %d: %s ms/image' % (
                name, size, _per_round(rounds, lambda timings: timings[name]['ms_per_image'][size])))
        if 'training' in rounds[0][name]:
            lines.append('%-15s training batch %d: %s images/s' % (
                name, train_batch_size,
                _per_round(rounds, lambda timings: timings[name]['training_images_per_second'], '%.2f')))
    for ratio in sorted(result['ratios']):
        lines.append('%s: median %.2fx (rounds: %s)' % (
            ratio, result['ratios'][ratio],
            _per_round(rounds, lambda timings: timings['ratios'][ratio], '%.2f')))
    return lines


def _per_round(rounds, value, fmt='%.0f'):
    return ', '.join(fmt % value(timings) for timings in rounds)


def run(values):
    result = measure(values)
    lines = summarise(result, [int(size) for size in values.batch_sizes], values.train_batch_size)
    print('\n'.join(lines))
    if values.output_json:
        checkpoint_info.write_json_atomically(values.output_json, result)
    return result


if __name__ == '__main__':
    script_flags.run_as_program(define_flags, run)
