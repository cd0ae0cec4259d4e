"""A PyTorch DCGAN's training step timed the way benchmark_dcgan.py times ours; prints one JSON line.

    python scripts/benchmark_dcgan_torch.py --batch_size=128 --image_size=64

Two nets, both with Adam (2e-4, beta1 0.5) and sigmoid cross-entropy:

* ``pytorch_examples``: the architecture of pytorch/examples' ``dcgan/main.py`` (ngf = ndf = 64: G
  512 -> 256 -> 128 -> 64 -> 3, D 64 -> 128 -> 256 -> 512 -> 1, 4 x 4 kernels, batch norm and
  activations as the paper), with its loop: the generator's update reuses the fake batch of the
  discriminator's update;
* ``paper``: the same code shaped like this repository's net (`nets/dcgan.py`: 5 x 5 kernels, G 1024
  -> 512 -> 256 -> 128 -> 3 from a linear projection of z, D 64 -> 128 -> 256 -> 512 -> a linear
  logit) with this repository's step (`engine/gan_training.py`: the generator's update on fresh z).

Random images (nothing is downloaded). benchmark_dcgan.py runs this file in its own process (torch and
TensorFlow in one process crash on this stack), so it imports neither TensorFlow nor the repository.
Without torch it prints ``{"unavailable": ...}``.
"""
import argparse
import json
import statistics
import sys
import time

Z_DIM = 100


def median_seconds(run, warmup_iters, num_iters):
    """``engine.benchmarking.median_seconds``, restated (this program must not import TensorFlow)."""
    for _ in range(warmup_iters):
        run()
    times = []
    for _ in range(num_iters):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _stages(image_size):
    stages = 0
    while 4 * 2 ** stages < image_size:
        stages += 1
    if 4 * 2 ** stages != image_size:
        raise ValueError('image size must be 4 x a power of two, got %d' % image_size)
    return stages


def build_nets(nn, variant, image_size, channels=3):
    """(generator, discriminator) modules of ``variant`` for square ``image_size`` images."""
    stages = _stages(image_size)
    kernel, padding, output_padding = (4, 1, 0) if variant == 'pytorch_examples' else (5, 2, 1)
    top = (64 if variant == 'pytorch_examples' else 128) * 2 ** (stages - 1)
    g_layers = []
    if variant == 'pytorch_examples':  # z as a 1 x 1 map, a 4 x 4 transposed convolution
        g_layers += [nn.Unflatten(1, (Z_DIM, 1, 1)), nn.ConvTranspose2d(Z_DIM, top, 4, 1, 0, bias=False)]
    else:  # the paper's projection and reshape
        g_layers += [nn.Linear(Z_DIM, top * 16), nn.Unflatten(1, (top, 4, 4))]
    g_layers += [nn.BatchNorm2d(top), nn.ReLU(True)]
    width = top
    for stage in range(stages):
        out = channels if stage == stages - 1 else width // 2
        g_layers.append(nn.ConvTranspose2d(width, out, kernel, 2, padding, output_padding,
                                           bias=stage == stages - 1 and variant == 'paper'))
        g_layers += [nn.Tanh()] if stage == stages - 1 else [nn.BatchNorm2d(out), nn.ReLU(True)]
        width = out
    d_layers, width = [], channels
    for stage in range(stages):
        out = 64 * 2 ** stage
        d_layers.append(nn.Conv2d(width, out, kernel, 2, padding, bias=stage == 0 and variant == 'paper'))
        d_layers += ([] if stage == 0 else [nn.BatchNorm2d(out)]) + [nn.LeakyReLU(0.2, True)]
        width = out
    if variant == 'pytorch_examples':
        d_layers += [nn.Conv2d(width, 1, 4, 1, 0, bias=False), nn.Flatten()]
    else:
        d_layers += [nn.Flatten(), nn.Linear(width * 16, 1)]
    return nn.Sequential(*g_layers), nn.Sequential(*d_layers)


def make_step(torch, variant, batch_size, image_size):
    """() -> None: one discriminator update then one generator update on random real images."""
    nn = torch.nn
    generator, discriminator = build_nets(nn, variant, image_size)
    g_optimizer = torch.optim.Adam(generator.parameters(), 2e-4, betas=(0.5, 0.999))
    d_optimizer = torch.optim.Adam(discriminator.parameters(), 2e-4, betas=(0.5, 0.999))
    loss = nn.BCEWithLogitsLoss()
    real = torch.rand(batch_size, 3, image_size, image_size) * 2 - 1
    ones, zeros = torch.ones(batch_size, 1), torch.zeros(batch_size, 1)

    def step():
        fake = generator(torch.rand(batch_size, Z_DIM) * 2 - 1)
        d_optimizer.zero_grad()
        d_loss = loss(discriminator(real), ones) + loss(discriminator(fake.detach()), zeros)
        d_loss.backward()
        d_optimizer.step()
        g_optimizer.zero_grad()
        if variant != 'pytorch_examples':
            fake = generator(torch.rand(batch_size, Z_DIM) * 2 - 1)
        loss(discriminator(fake), ones).backward()
        g_optimizer.step()

    return step


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--batch_size', type=int, default=128)
    parser.add_argument('--image_size', type=int, default=64)
    parser.add_argument('--variants', default='pytorch_examples,paper')
    parser.add_argument('--warmup_iters', type=int, default=1)
    parser.add_argument('--num_iters', type=int, default=3)
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError as error:
        print(json.dumps({'unavailable': 'torch is not installed (%s)' % error}))
        return
    torch.manual_seed(0)
    result = {'version': 'torch %s' % torch.__version__, 'threads': torch.get_num_threads(),
              'training_seconds': {}}
    for variant in args.variants.split(','):
        step = make_step(torch, variant, args.batch_size, args.image_size)
        result['training_seconds'][variant] = median_seconds(step, args.warmup_iters, args.num_iters)
    print(json.dumps(result))


if __name__ == '__main__':
    main(sys.argv[1:])
