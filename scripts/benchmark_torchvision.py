"""torchvision's ssd300_vgg16 timed the way benchmark_speed.py times SSD300; prints one JSON line.

    python scripts/benchmark_torchvision.py --batch_sizes=1,8 --train_batch_size=8

Random weights (nothing is downloaded), random 300 x 300 images; inference includes torchvision's own
normalisation and post-processing, training is a loss + SGD (momentum 0.9) step. benchmark_speed.py
runs this file in its own process (torch and TensorFlow in one process crash on this stack), so it
imports neither TensorFlow nor the repository's TF modules. Without torch it prints
``{"unavailable": ...}``.
"""
import argparse
import json
import statistics
import sys
import time

_NUM_CLASSES = 21
_IMAGE_SIZE = 300


def median_seconds(run, warmup_iters, num_iters):
    """The median wall time of ``num_iters`` calls of ``run`` after ``warmup_iters`` untimed ones
    (``engine.benchmarking.median_seconds``, restated: this program must not import TensorFlow, and
    every module of the repository does)."""
    for _ in range(warmup_iters):
        run()
    times = []
    for _ in range(num_iters):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(torch, torchvision, batch_sizes, train_batch_size, warmup_iters, num_iters):
    torch.manual_seed(0)
    model = torchvision.models.detection.ssd300_vgg16(weights=None, weights_backbone=None,
                                                      num_classes=_NUM_CLASSES)
    result = {'version': 'torch %s, torchvision %s' % (torch.__version__, torchvision.__version__),
              'threads': torch.get_num_threads(), 'inference': {}}
    model.eval()
    for batch_size in batch_sizes:
        images = [torch.rand(3, _IMAGE_SIZE, _IMAGE_SIZE) for _ in range(batch_size)]
        with torch.inference_mode():
            result['inference'][batch_size] = median_seconds(lambda: model(images), warmup_iters,
                                                             num_iters)
    if train_batch_size:
        model.train()
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9, weight_decay=5e-4)
        images = [torch.rand(3, _IMAGE_SIZE, _IMAGE_SIZE) for _ in range(train_batch_size)]
        targets = [{'boxes': torch.tensor([[30.0, 40.0, 150.0, 200.0], [100.0, 90.0, 280.0, 260.0]]),
                    'labels': torch.tensor([3, 7])} for _ in range(train_batch_size)]

        def step():
            optimizer.zero_grad()
            sum(model(images, targets).values()).backward()
            optimizer.step()

        result['training'] = median_seconds(step, warmup_iters, num_iters)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--batch_sizes', default='1,8')
    parser.add_argument('--train_batch_size', type=int, default=8)
    parser.add_argument('--warmup_iters', type=int, default=2)
    parser.add_argument('--num_iters', type=int, default=5)
    args = parser.parse_args(argv)
    try:
        import torch
        import torchvision
    except ImportError:
        print(json.dumps({'unavailable': 'torch / torchvision are not installed'}))
        return 0
    result = measure(torch, torchvision, [int(size) for size in args.batch_sizes.split(',')],
                     args.train_batch_size, args.warmup_iters, args.num_iters)
    print(json.dumps(result))
    return 0


if __name__ == '__main__':
    sys.exit(main())
