"""make_shapes_dataset.py --centred -> train_dcgan.py on a tiny budget: the data's layout and the run's
checkpoint, config and refusal of another model's train dir."""
import glob
import json
import os

import cv2
import numpy as np
import pytest
import tiny_shapes

from tf1zoo.datasets import synthetic_shapes
from tf1zoo.engine import cli, gan_evaluation, gan_sampling, inception_fid, train_loop
from tf1zoo.nets import dcgan
from tf1zoo.ops import frechet_distance
from tf1zoo.scripts import eval_dcgan, make_shapes_dataset, sample_dcgan, train_dcgan


@pytest.fixture(scope='module')
def centred(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('centred'))
    make_shapes_dataset.run(cli.parse(make_shapes_dataset.define_flags, output_dir=root, centred=True,
                                      num_train=12, num_test=6, image_size=16))
    return root


def test_centred_shapes_are_balanced_square_and_deterministic(centred, tmp_path):
    for split, count in (('train', 12), ('test', 6)):
        per_class = [len(os.listdir(os.path.join(centred, split, name)))
                     for name in synthetic_shapes.CLASS_NAMES]
        assert per_class == [count // 6] * 6
    path = os.path.join(centred, 'train', 'star', 'train_000003.png')
    pixels = cv2.imread(path)
    assert pixels.shape == (16, 16, 3)
    synthetic_shapes.generate_centred(str(tmp_path), 12, 6, image_size=16, show_progress=False)
    with open(path, 'rb') as first, open(tmp_path / 'train' / 'star' / 'train_000003.png', 'rb') as again:
        assert first.read() == again.read()


def _train(image_dir, train_dir, **extra):
    values = dict(image_dir=image_dir, train_dir=train_dir, image_size=16, depth_multiplier=1 / 16,
                  batch_size=4, max_steps=2, progress=False)
    values.update(extra)
    return tiny_shapes.run_training(train_dcgan, **values)


def test_training_writes_checkpoints_and_the_generator_config(centred, tmp_path):
    train_dir = str(tmp_path / 'train')
    assert _train(os.path.join(centred, 'train'), train_dir) == 2
    with open(os.path.join(train_dir, 'model_config.json')) as saved:
        config = json.load(saved)
    assert config == {'model_name': 'dcgan', 'image_size': 16, 'channels': 3,
                      'depth_multiplier': 1 / 16, 'z_dim': 100, 'generator_steps': 1}
    assert _train(os.path.join(centred, 'train'), train_dir, max_steps=3) == 3  # resumes
    with pytest.raises(train_loop.TrainDirError, match='image_size: 16 -> 32'):
        _train(os.path.join(centred, 'train'), train_dir, max_steps=4, image_size=32)


def test_samples_grid_walks_and_raw_samples(centred, tmp_path):
    train_dir = str(tmp_path / 'train')
    _train(os.path.join(centred, 'train'), train_dir)
    values = cli.parse(sample_dcgan.define_flags, checkpoint_path=train_dir,
                       output_dir=str(tmp_path / 'out'), grid_side=3, num_walks=2, walk_steps=4,
                       num_samples=5, write_pngs=True)
    written = sample_dcgan.run(values)
    assert cv2.imread(written['grid']).shape == (3 * 16, 3 * 16, 3)
    walks = cv2.cvtColor(cv2.imread(written['walks']), cv2.COLOR_BGR2RGB)
    assert walks.shape == (2 * 16, 4 * 16, 3)
    saved = np.load(written['samples'])
    assert saved['images'].shape == (5, 16, 16, 3) and saved['z'].shape == (5, dcgan.Z_DIM)
    assert len(os.listdir(written['pngs'])) == 5
    prefix, config = gan_sampling.load_generator_config(train_dir)
    # The raw samples are the generator's images of their z; a walk starts and ends at its two z.
    np.testing.assert_array_equal(gan_sampling.generate(prefix, config, saved['z']), saved['images'])
    z = gan_sampling.walks(np.random.default_rng(7), 1, 4)
    np.testing.assert_allclose(z[1] - z[0], z[3] - z[2], rtol=1e-5, atol=1e-6)
    # The same seed draws the same pictures.
    again = sample_dcgan.run(cli.parse(sample_dcgan.define_flags, checkpoint_path=train_dir,
                                       output_dir=str(tmp_path / 'again'), grid_side=3, num_walks=2,
                                       walk_steps=4, num_samples=5))
    with open(written['grid'], 'rb') as first, open(again['grid'], 'rb') as second:
        assert first.read() == second.read()


def test_eval_dcgan_gives_the_fid_of_its_samples_on_inception_features(centred, tmp_path,
                                                                       random_inception_checkpoint):
    train_dir = str(tmp_path / 'train')
    _train(os.path.join(centred, 'train'), train_dir)
    output = str(tmp_path / 'fid.json')
    results = eval_dcgan.run(cli.parse(
        eval_dcgan.define_flags, checkpoint_path=train_dir, image_dir=os.path.join(centred, 'test'),
        inception_checkpoint=random_inception_checkpoint, num_samples=6, seed=3, output_json=output))
    with open(output) as saved:
        assert json.load(saved) == results
    assert (results['num_samples'], results['num_real_images']) == (6, 6)
    # The same distance from the pieces: the seed's samples, the test folder's six images.
    prefix, _ = gan_sampling.load_generator_config(train_dir)
    samples = gan_evaluation.generated_images(prefix, 6, seed=3)
    real = np.stack([cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)
                     for path in sorted(glob.glob(os.path.join(centred, 'test', '*', '*.png')))])
    features = inception_fid.pool_feature_sets(random_inception_checkpoint,
                                               [samples, real.astype(np.float32) / 127.5 - 1.0])
    assert results['fid_inception_v3'] == pytest.approx(
        frechet_distance.feature_frechet_distance(*features), rel=1e-4)
    with pytest.raises(Exception, match='give --inception_checkpoint, --classifier_dir or both'):
        cli.parse(eval_dcgan.define_flags, checkpoint_path=train_dir, image_dir=centred)


def test_vector_arithmetic_on_grid_samples(centred, tmp_path):
    train_dir = str(tmp_path / 'train')
    _train(os.path.join(centred, 'train'), train_dir)
    values = cli.parse(sample_dcgan.define_flags, checkpoint_path=train_dir,
                       output_dir=str(tmp_path / 'out'), grid_side=3, num_walks=1, walk_steps=2,
                       num_samples=1, arithmetic='0,1 - 2 + 3,4,5')
    picture = cv2.cvtColor(cv2.imread(sample_dcgan.run(values)['arithmetic']), cv2.COLOR_BGR2RGB)
    # Rows: A (2 samples + mean), B (1 + mean), C (3 + mean), then Y and its 8 neighbours.
    assert picture.shape == (4 * 16, 9 * 16, 3)

    def cell(row, column):
        return picture[16 * row:16 * (row + 1), 16 * column:16 * (column + 1)]

    grid_z = np.random.default_rng(0).uniform(-1, 1, (9, dcgan.Z_DIM)).astype(np.float32)
    y = grid_z[[0, 1]].mean(0) - grid_z[2] + grid_z[[3, 4, 5]].mean(0)
    prefix, config = gan_sampling.load_generator_config(train_dir)
    expected = gan_sampling.generate(prefix, config, np.stack([grid_z[1], grid_z[[0, 1]].mean(0), y]))
    for (row, column), image in zip([(0, 1), (0, 2), (3, 0)], expected):
        np.testing.assert_allclose(cell(row, column), image, atol=1)  # one grey level: float sums
    assert not cell(1, 2).any()  # short rows are padded with black
    rows = gan_sampling.arithmetic_z(grid_z, ((0, 1), (2,), (3, 4, 5)), np.random.default_rng(1))
    assert [len(row) for row in rows] == [3, 2, 4, 9]
    assert np.abs(rows[3][1:] - y).max() <= gan_sampling.ARITHMETIC_NOISE
    for text, message in (('0,1 + 2 - 3', 'is not "A - B \\+ C"'), ('0 - x + 1', "'x' is not"),
                          ('0 - 9 + 1', r'indices \[9\] are outside the grid \(0 to 8\)')):
        with pytest.raises(ValueError, match=message):
            gan_sampling.parse_arithmetic(text, 9)


def test_mnist_trains_a_grayscale_32_pixel_dcgan(tmp_path):
    import struct
    digits = np.random.default_rng(0).integers(0, 256, (8, 28, 28)).astype(np.uint8)
    path = tmp_path / 'train-images-idx3-ubyte'
    path.write_bytes(struct.pack('>BBBBiii', 0, 0, 8, 3, 8, 28, 28) + digits.tobytes())
    train_dir = str(tmp_path / 'train')
    assert tiny_shapes.run_training(train_dcgan, mnist_images=str(path), train_dir=train_dir,
                                    depth_multiplier=1 / 16, batch_size=4, max_steps=1,
                                    progress=False) == 1
    with open(os.path.join(train_dir, 'model_config.json')) as saved:
        config = json.load(saved)
    assert (config['image_size'], config['channels']) == (32, 1)
    with pytest.raises(Exception, match='exactly one of --image_dir, --dataset_dir and --mnist_images'):
        cli.parse(train_dcgan.define_flags, train_dir=train_dir)


def test_mnist_through_tfrecords_trains_the_same_grayscale_dcgan(tmp_path):
    import struct

    from tf1zoo.scripts import convert_images_to_tfrecord
    digits = np.random.default_rng(0).integers(0, 256, (8, 28, 28)).astype(np.uint8)
    path = tmp_path / 'train-images-idx3-ubyte'
    path.write_bytes(struct.pack('>BBBBiii', 0, 0, 8, 3, 8, 28, 28) + digits.tobytes())
    records = str(tmp_path / 'records')
    result, skipped = convert_images_to_tfrecord.run(cli.parse(
        convert_images_to_tfrecord.define_flags, mnist_images=str(path), output_dir=records,
        name='mnist_train', num_shards=2))
    assert result.num_examples == 8 and not skipped
    train_dir = str(tmp_path / 'train')
    assert tiny_shapes.run_training(train_dcgan, dataset_dir=records, dataset_name='mnist_train',
                                    train_dir=train_dir, depth_multiplier=1 / 16, batch_size=4,
                                    max_steps=1, progress=False) == 1
    with open(os.path.join(train_dir, 'model_config.json')) as saved:
        config = json.load(saved)
    assert (config['image_size'], config['channels']) == (32, 1)
    with pytest.raises(Exception, match='exactly one of --image_dir and --mnist_images'):
        cli.parse(convert_images_to_tfrecord.define_flags, output_dir=records, name='x')


def test_training_from_converted_records(centred, tmp_path):
    from tf1zoo.scripts import convert_images_to_tfrecord
    convert_images_to_tfrecord.run(cli.parse(
        convert_images_to_tfrecord.define_flags, image_dir=os.path.join(centred, 'train'),
        output_dir=str(tmp_path / 'records'), name='centred_train', num_shards=2))
    assert tiny_shapes.run_training(train_dcgan, dataset_dir=str(tmp_path / 'records'),
                                    dataset_name='centred_train', train_dir=str(tmp_path / 'train'),
                                    image_size=16, depth_multiplier=1 / 16, batch_size=4,
                                    max_steps=1, progress=False) == 1
