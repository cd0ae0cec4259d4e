"""FID of a trained DCGAN's samples against real images (Heusel et al. 2017).

    python scripts/eval_dcgan.py --checkpoint_path=train/dcgan --image_dir=data/centred/test \
        --inception_checkpoint=checkpoints/inception_v3.ckpt --output_json=train/dcgan/fid.json

--inception_checkpoint: a local tf-slim InceptionV3 checkpoint (inception_v3_2016_08_28's
inception_v3.ckpt): the FID on its 2048 pool features, samples and real images resized to 299 x 299.
--classifier_dir: the small classifier that run_demo.py --model_name=dcgan trains on the real images
(<work_dir>/classifier): the FID on its features, for data without an Inception checkpoint. Give one
or both. Real images are every image under --image_dir (up to --max_real_images, class subfolders or
not), centre-cropped and resized to the generator's size as training prepares them.
"""
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
import json

from absl import flags

from tf1zoo.engine import checkpoint_info, cli, gan_evaluation, gan_sampling


def define_flags(flag_values=flags.FLAGS):
    define = cli.Definer(flag_values)
    define.string('checkpoint_path', None, 'A DCGAN train dir (its latest checkpoint) or checkpoint.')
    define.string('image_dir', None, 'Folder tree of real images (JPEG / PNG) to compare against.')
    define.string('inception_checkpoint', None, 'A tf-slim InceptionV3 checkpoint (prefix or folder).')
    define.string('classifier_dir', None, 'The small classifier\'s train dir (run_demo.py\'s '
                  '<work_dir>/classifier).')
    define.integer('num_samples', 5000, 'Generated samples (z uniform in [-1, 1] from --seed).')
    define.integer('max_real_images', 5000, 'At most this many real images (the first in file order).')
    define.integer('crop_size', None, 'Centred square cut from each real image before the resize, as '
                   'train_dcgan.py\'s --crop_size.')
    define.integer('seed', 0, 'Seed of the samples\' z.')
    define.string('output_json', None, 'Also write the results here (atomically).')
    define.required(['checkpoint_path', 'image_dir'])
    flags.register_multi_flags_validator(
        ['inception_checkpoint', 'classifier_dir'],
        lambda v: bool(v['inception_checkpoint']) or bool(v['classifier_dir']),
        message='give --inception_checkpoint, --classifier_dir or both', flag_values=flag_values)


def run(values):
    # 1. The generator, and the real images at its size.
    prefix, config = gan_sampling.load_generator_config(values.checkpoint_path)
    if config['channels'] != 3:
        raise ValueError('%s is a %d-channel DCGAN; eval_dcgan.py compares RGB samples with RGB '
                         'images' % (prefix, config['channels']))
    real = gan_evaluation.load_folder_images(values.image_dir, config['image_size'],
                                             values.max_real_images, values.crop_size)
    # 2. The distances.
    results = gan_evaluation.sample_fids(prefix, real, values.num_samples,
                                         values.inception_checkpoint, values.classifier_dir,
                                         values.seed, show_progress=True)
    results.update(checkpoint=prefix, image_dir=values.image_dir,
                   inception_checkpoint=values.inception_checkpoint,
                   classifier_dir=values.classifier_dir, seed=values.seed)
    # 3. Where asked, the JSON.
    if values.output_json:
        checkpoint_info.write_json_atomically(values.output_json, results)
    return results


def main(values):
    results = run(values)
    for key, name in (('fid_inception_v3', 'InceptionV3 pool features'),
                      ('fid_small_classifier', 'small classifier features')):
        if key in results:
            print('FID on %s: %.3f (%d samples vs %d real images)'
                  % (name, results[key], results['num_samples'], results['num_real_images']))
    if values.output_json:
        print(json.dumps({'written': values.output_json}))


if __name__ == '__main__':
    cli.run_as_program(define_flags, main)
