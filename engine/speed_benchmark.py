"""A detector's speed on this machine, beside its peers, in one run (what benchmark_speed.py prints).

For the full-width SSD300 (or another ``nets_factory`` detector, or a thinned one) `measure` times:

* inference latency per batch (network + post-processing) at each batch size, for each TF variant:
  TF's direct convolutions, Winograd ones (`ops/winograd.py`: F(6x6, 3x3) or F(4x4, 3x3) per layer,
  or F(4x4) everywhere), and XLA auto-clustering;
* training images/s (the detector's loss + a Momentum step);
* the same for torchvision's ``ssd300_vgg16`` (random weights; its own pre- and post-processing) where
  torch is installed, and OpenCV 4.x DNN running the official deploy prototxt with random weights
  (SSD300), or the paper's net as a darknet cfg with random weights (YOLO v1; OpenCV has no
  ``[detection]`` layer, so its time leaves the decoding out);
* the hardware bound: the net's FLOPs (TF's profiler) over the throughput a single plain 3x3
  convolution reaches in TensorFlow here.

Everything runs ``rounds`` times, the systems one after the other in each round; `summarise` takes the
ratios within a round and reports their median. Inputs are random images (network inputs, already
normalised) and random ground truth; a round's timing is the median of ``num_iters`` runs after
``warmup_iters``.
"""
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
from typing import Optional, Sequence

import cv2
import numpy as np
import tensorflow.compat.v1 as tf
import tqdm

from tf1zoo.converters import caffe_proto, caffe_weights
from tf1zoo.engine import benchmarking, darknet_conversion
from tf1zoo.nets import nets_factory
from tf1zoo.ops import winograd

_NUM_CLASSES = 21
PEERS = ('torchvision', 'opencv')


@dataclasses.dataclass(frozen=True)
class SpeedSettings:
    """What `measure` times and how often. ``tf_variants``: keys of `TF_VARIANTS`; ``peers``: of
    `PEERS` (measured for the full-width nets that have them, `PEERS_BY_MODEL`);
    ``deploy_prototxt``: SSD300's OpenCV peer's net; ``torchvision_script``: the torchvision peer's
    program."""

    model_name: str = 'ssd_vgg_300'
    depth_multiplier: float = 1.0
    batch_sizes: Sequence[int] = (1, 8)
    train_batch_size: int = 8
    warmup_iters: int = 1
    num_iters: int = 3
    rounds: int = 3
    tf_variants: Sequence[str] = ('direct', 'winograd', 'winograd4', 'xla')
    peers: Sequence[str] = PEERS
    deploy_prototxt: Optional[str] = None
    torchvision_script: Optional[str] = None


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
            return benchmarking.median_seconds(lambda: session.run(detections, {inputs: images}),
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
            return benchmarking.median_seconds(lambda: session.run(train_op), values.warmup_iters,
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
            seconds = benchmarking.median_seconds(lambda: session.run(output, {inputs: feature_map}),
                                     values.warmup_iters, max(values.num_iters, 10))
    return 2 * 75 * 75 * 256 * 256 * 9 / seconds


def torchvision_seconds(batch_sizes, train_batch_size, values):
    """{'inference': {batch: s}, 'training': s} for torchvision's ssd300_vgg16, or None without torch.

    Runs ``values.torchvision_script`` (scripts/benchmark_torchvision.py) in its own process: torch and
    TensorFlow in one process crash here. It prints one JSON line, ``{"unavailable": ...}`` without
    torch.
    """
    command = [sys.executable, values.torchvision_script,
               '--batch_sizes=%s' % ','.join(map(str, batch_sizes)),
               '--train_batch_size=%d' % train_batch_size, '--warmup_iters=%d' % values.warmup_iters,
               '--num_iters=%d' % values.num_iters]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode:
        raise RuntimeError('%s failed:\n%s' % (values.torchvision_script, completed.stderr[-2000:]))
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    if 'unavailable' in result:
        return None
    result['inference'] = {int(size): seconds for size, seconds in result['inference'].items()}
    return result


def _opencv_caffe_net(values, folder):
    """SSD300's official deploy prototxt with random weights, read by OpenCV's Caffe importer."""
    if (not values.deploy_prototxt or not os.path.exists(values.deploy_prototxt)
            or not hasattr(cv2.dnn, 'readNetFromCaffe')):
        return None
    deploy = caffe_proto.read_prototxt(values.deploy_prototxt)
    caffemodel = os.path.join(folder, 'random.caffemodel')
    caffe_proto.write_caffemodel(caffe_weights.random_caffemodel(deploy), caffemodel)
    return cv2.dnn.readNetFromCaffe(values.deploy_prototxt, caffemodel), (-120.0, 130.0)


def _opencv_darknet_net(values, folder):
    """The paper's YOLO v1 as a darknet cfg (without the [detection] section, which OpenCV's
    importer lacks; its decoding is timed on our side only) and random weights."""
    del values
    if not hasattr(cv2.dnn, 'readNetFromDarknet'):
        return None
    text = darknet_conversion.paper_cfg_text()
    cfg = os.path.join(folder, 'yolo_v1.cfg')
    with open(cfg, 'w') as stream:
        stream.write(text[:text.index('[detection]')])
    weights = darknet_conversion.random_weights(cfg, os.path.join(folder, 'random.weights'))
    return cv2.dnn.readNetFromDarknet(cfg, weights), (0.0, 1.0)


_OPENCV_NETS = {'ssd_vgg_300': _opencv_caffe_net, 'yolo_v1': _opencv_darknet_net}
# The peers of each full-width model that have them.
PEERS_BY_MODEL = {'ssd_vgg_300': ('torchvision', 'opencv'), 'yolo_v1': ('opencv',)}


def opencv_seconds(batch_sizes, values):
    """{'inference': {batch: s}} for OpenCV DNN running the model's published net definition with
    random weights, or None where unavailable."""
    with tempfile.TemporaryDirectory() as folder:
        loaded = _OPENCV_NETS[values.model_name](values, folder)
    if loaded is None:
        return None
    net, (low, high) = loaded
    size = _image_size(values)
    result = {'version': 'OpenCV %s' % cv2.__version__, 'threads': cv2.getNumThreads(),
              'inference': {}}
    rng = np.random.default_rng(0)
    for batch_size in batch_sizes:
        blob = rng.uniform(low, high, (batch_size, 3, size, size)).astype(np.float32)

        def forward():
            net.setInput(blob)
            return net.forward()

        result['inference'][batch_size] = benchmarking.median_seconds(forward, values.warmup_iters,
                                                                      values.num_iters)
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
    # The peers run the papers' full-width nets: a thinned net has none to compare with.
    peers = [peer for peer in values.peers if values.depth_multiplier == 1.0
             and peer in PEERS_BY_MODEL.get(values.model_name, ())]
    if 'torchvision' in peers and values.torchvision_script:
        timings['torchvision'] = torchvision_seconds(batch_sizes, values.train_batch_size, values)
    if 'opencv' in peers:
        timings['opencv'] = opencv_seconds(batch_sizes, values)
    return timings


def measure(values):
    """Runs every measurement ``values.rounds`` times; returns the result dict (times in seconds)."""
    benchmarking.check_choices('tf_variants', values.tf_variants, TF_VARIANTS)
    benchmarking.check_choices('peers', values.peers, PEERS)
    batch_sizes = list(values.batch_sizes)
    result = {'machine': benchmarking.machine_description(),
              'model_name': values.model_name, 'depth_multiplier': values.depth_multiplier,
              'flops_per_image': tf_forward_flops(values), 'rounds': []}
    for _ in tqdm.trange(values.rounds, desc='rounds'):
        result['rounds'].append(measure_round(values, batch_sizes))
    return result


_OURS = tuple(name for name, _, _, _ in TF_VARIANTS.values())
_SYSTEMS = _OURS + PEERS


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
