"""DCGAN's measured quality, on data whose classes are known (the embedded centred shapes):

1. FID (Heusel et al. 2017) of generated samples against held-out real images, on the features of a
   small classifier (`nets.small_classifier`) trained here on the real training images, since no
   InceptionV3 checkpoint can be downloaded; beside it the floor, the same distance between two
   sets of real images (training vs held-out). With a local InceptionV3 checkpoint, also the
   standard FID on its pool features (`inception_fid`, `sample_fids`).
2. Mode coverage: the share of samples that classifier assigns to each class with probability
   >= 0.9, and how many classes appear at all.
3. The paper's test of the discriminator's features (sec. 5.1): every D convolution's output max-
   pooled to a 4 x 4 grid, flattened and concatenated, an L2-SVM fitted on labelled real training
   images and scored on held-out ones; beside it the same SVM on raw pixels.

Image folders have one subfolder per class (`image_folder.labelled_image_files`); images are float32
``[n, size, size, 3]`` in [-1, 1].
"""
import dataclasses
import json
import os
from typing import Sequence

import numpy as np
import tensorflow.compat.v1 as tf
import tf_slim as slim

from tf1zoo.datasets import image_folder
from tf1zoo.engine import checkpoint_info, gan_sampling, gan_training, inception_fid, train_loop
from tf1zoo.nets import dcgan, small_classifier
from tf1zoo.ops import frechet_distance, linear_probe

CONFIDENT = 0.9
CLASSIFIER_SCOPE = 'SmallClassifier'
CLASSIFIER_CONFIG = 'classifier_config.json'
PROBE_GRID = 4


def load_images(image_dir, image_size, limit=None):
    """(images ``[n, size, size, 3]`` in [-1, 1], labels ``[n]``, class names) of a class-folder tree,
    every ``len / limit``-th file when ``limit`` caps the count (so each class keeps its share)."""
    paths, labels, classes = image_folder.labelled_image_files(image_dir)
    if limit and len(paths) > limit:
        keep = np.linspace(0, len(paths) - 1, limit).astype(int)
        paths, labels = [paths[i] for i in keep], [labels[i] for i in keep]
    with tf.Graph().as_default():
        batches = _all_batches(image_folder.build_labelled_dataset(paths, labels, image_size, 256,
                                                                   is_training=False))
    return (np.concatenate([images for images, _ in batches]),
            np.concatenate([kept for _, kept in batches]), classes)


def _all_batches(dataset):
    """Every batch of a finite ``dataset``, run in the current graph."""
    batch = tf.data.make_one_shot_iterator(dataset).get_next()
    batches = []
    with tf.Session() as session:
        while True:
            try:
                batches.append(session.run(batch))
            except tf.errors.OutOfRangeError:
                return batches


def train_feature_classifier(image_dir, train_dir, image_size, max_steps=400, batch_size=64,
                             learning_rate=1e-3, seed=None, show_progress=True):
    """Trains the small classifier on a class-folder tree of real images; returns the step reached.
    Its class names and image size are written to ``<train_dir>/classifier_config.json``."""
    paths, labels, classes = image_folder.labelled_image_files(image_dir)

    def dataset_fn():
        return image_folder.build_labelled_dataset(paths, labels, image_size, batch_size,
                                                   seed=seed).map(
            lambda images, labels: {'images': images, 'labels': labels})

    def model_fn(batch):
        with slim.arg_scope(small_classifier.small_classifier_arg_scope(is_training=True)):
            logits, _ = small_classifier.small_classifier(batch['images'], len(classes),
                                                          scope=CLASSIFIER_SCOPE)
        accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, -1, output_type=tf.int32),
                                                   batch['labels']), tf.float32))
        tf.summary.scalar('classifier/accuracy', accuracy)
        loss = tf.losses.sparse_softmax_cross_entropy(batch['labels'], logits, loss_collection=None)
        return train_loop.ModelOutputs(losses={'classification_loss': loss})

    config = train_loop.TrainConfig(train_dir=train_dir, max_steps=max_steps, batch_size=batch_size,
                                    learning_rate=learning_rate, optimizer='adam',
                                    save_checkpoint_steps=max_steps, save_summaries_steps=100,
                                    seed=seed, show_progress=show_progress)

    def write_config():
        checkpoint_info.write_json_atomically(os.path.join(train_dir, CLASSIFIER_CONFIG), {
            'class_names': list(classes), 'image_size': image_size})

    return train_loop.train(config, dataset_fn, model_fn, after_restore=write_config)


def read_classifier_config(train_dir):
    """The classifier's ``{'class_names': [...], 'image_size': n}``; a missing file is a ValueError."""
    path = os.path.join(train_dir, CLASSIFIER_CONFIG)
    try:
        with open(path, encoding='utf-8') as stream:
            return json.load(stream)
    except (OSError, ValueError) as error:
        raise ValueError('cannot read the feature classifier\'s %s (train it first): %s'
                         % (path, error)) from error


def classify(train_dir, images, batch_size=256):
    """(features ``[n, 128]``, class probabilities ``[n, classes]``) of the trained classifier."""
    config = read_classifier_config(train_dir)
    with tf.Graph().as_default():
        inputs = tf.placeholder(tf.float32, [None] + list(images.shape[1:]))
        with slim.arg_scope(small_classifier.small_classifier_arg_scope(is_training=False)):
            logits, end_points = small_classifier.small_classifier(
                inputs, len(config['class_names']), is_training=False, scope=CLASSIFIER_SCOPE)
        fetches = (end_points[small_classifier.FEATURES], tf.nn.softmax(logits))
        with tf.Session() as session:
            tf.train.Saver(tf.global_variables(CLASSIFIER_SCOPE)).restore(
                session, tf.train.latest_checkpoint(train_dir))
            parts = [session.run(fetches, {inputs: images[i:i + batch_size]})
                     for i in range(0, len(images), batch_size)]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def mode_coverage(probabilities, class_names: Sequence[str], threshold=CONFIDENT):
    """The share of samples assigned to each class with probability >= ``threshold``, the share
    assigned confidently at all, and the number of classes with at least one such sample."""
    probabilities = np.asarray(probabilities)
    confident = probabilities.max(axis=1) >= threshold
    winners = probabilities.argmax(axis=1)
    shares = {name: float(np.mean(confident & (winners == index)))
              for index, name in enumerate(class_names)}
    return {'share_per_class': shares, 'confident_share': float(confident.mean()),
            'classes_covered': int(sum(share > 0 for share in shares.values())),
            'threshold': threshold}


def discriminator_features(prefix, config, images, batch_size=256):
    """``[n, d]``: each D convolution's output max-pooled to a 4 x 4 grid (DCGAN sec. 5.1),
    flattened and concatenated; batch norm on its moving statistics."""
    with tf.Graph().as_default():
        inputs = tf.placeholder(tf.float32, [None] + list(images.shape[1:]))
        with slim.arg_scope(dcgan.dcgan_arg_scope(is_training=False)):
            _, end_points = dcgan.discriminator(inputs, config['depth_multiplier'], is_training=False,
                                                scope=gan_training.DISCRIMINATOR_SCOPE)
        pooled = []
        for name in sorted(end_points):
            size = end_points[name].shape.as_list()[1]
            window = max(1, size // PROBE_GRID)
            pooled.append(slim.flatten(tf.nn.max_pool2d(end_points[name], window, window, 'VALID')))
        features = tf.concat(pooled, axis=1)
        with tf.Session() as session:
            tf.train.Saver(tf.global_variables(gan_training.DISCRIMINATOR_SCOPE)).restore(session,
                                                                                          prefix)
            return np.concatenate([session.run(features, {inputs: images[i:i + batch_size]})
                                   for i in range(0, len(images), batch_size)])


@dataclasses.dataclass(frozen=True)
class RealImages:
    """Labelled real images: the training split (probe fitting, FID floor) and the held-out one."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    class_names: Sequence[str]


def load_real_images(train_image_dir, test_image_dir, image_size, train_limit=3000):
    train_images, train_labels, classes = load_images(train_image_dir, image_size, train_limit)
    test_images, test_labels, test_classes = load_images(test_image_dir, image_size)
    if test_classes != classes:
        raise ValueError('%s has classes %s, %s has %s' % (test_image_dir, list(test_classes),
                                                           train_image_dir, list(classes)))
    return RealImages(train_images, train_labels, test_images, test_labels, classes)


@dataclasses.dataclass(frozen=True)
class RealFeatures:
    """The classifier's view of the real images, computed once for every checkpoint measured: the
    held-out images' feature statistics, the FID floor and the classifier's held-out accuracy."""

    test_statistics: tuple
    fid_real_floor: float
    classifier_test_accuracy: float
    class_names: Sequence[str]


def real_features(classifier_dir, real: RealImages) -> RealFeatures:
    test_features, test_probabilities = classify(classifier_dir, real.test_images)
    # As many training images as held-out ones, spread over the (class-sorted) list: every class.
    spread = np.linspace(0, len(real.train_images) - 1, len(real.test_images)).astype(int)
    floor_features, _ = classify(classifier_dir, real.train_images[spread])
    return RealFeatures(
        test_statistics=frechet_distance.gaussian_statistics(test_features),
        fid_real_floor=frechet_distance.feature_frechet_distance(floor_features, test_features),
        classifier_test_accuracy=float(np.mean(test_probabilities.argmax(1) == real.test_labels)),
        class_names=real.class_names)


def feature_distances(classifier_dir, real: RealFeatures, samples):
    """FID of ``samples`` vs the held-out images with its floor (as many training images vs them),
    on the classifier's features; the classifier's held-out accuracy; mode coverage."""
    sample_features, sample_probabilities = classify(classifier_dir, samples)
    return {'fid': frechet_distance.frechet_distance(
                *frechet_distance.gaussian_statistics(sample_features), *real.test_statistics),
            'fid_real_floor': real.fid_real_floor,
            'classifier_test_accuracy': real.classifier_test_accuracy,
            'coverage': mode_coverage(sample_probabilities, real.class_names)}


def probe_accuracies(gan_checkpoint, real: RealImages):
    """The L2-SVM's held-out accuracy on D's features and on raw pixels."""
    prefix, config = gan_sampling.load_generator_config(gan_checkpoint)
    num_classes = len(real.class_names)
    d_train = discriminator_features(prefix, config, real.train_images)
    d_test = discriminator_features(prefix, config, real.test_images)
    d_probe = linear_probe.fit_l2_svm(d_train, real.train_labels, num_classes)
    pixels_probe = linear_probe.fit_l2_svm(real.train_images.reshape(len(real.train_images), -1),
                                           real.train_labels, num_classes)
    return {'discriminator_features': d_probe.accuracy(d_test, real.test_labels),
            'discriminator_feature_size': int(d_train.shape[1]),
            'raw_pixels': pixels_probe.accuracy(real.test_images.reshape(len(real.test_images), -1),
                                                real.test_labels)}


def generated_images(gan_checkpoint, num_samples, seed=0):
    """float32 ``[num_samples, size, size, 3]`` in [-1, 1] from z uniform in [-1, 1]."""
    prefix, config = gan_sampling.load_generator_config(gan_checkpoint)
    z = np.random.default_rng(seed).uniform(-1, 1, (num_samples, dcgan.Z_DIM)).astype(np.float32)
    return gan_sampling.generate(prefix, config, z).astype(np.float32) / 127.5 - 1.0


def load_folder_images(image_dir, image_size, limit=None, crop_size=None):
    """float32 ``[n, size, size, 3]`` in [-1, 1]: every image of a folder tree (class subfolders or
    not), the first ``limit`` in file order when given, cropped and resized as DCGAN trains."""
    with tf.Graph().as_default():
        dataset = image_folder.build_image_dataset(image_dir, image_size, 256, is_training=False,
                                                   crop_size=crop_size)
        if limit:
            dataset = dataset.unbatch().take(limit).batch(256)
        return np.concatenate(_all_batches(dataset))


def sample_fids(gan_checkpoint, real_images, num_samples, inception_checkpoint=None,
                classifier_dir=None, seed=0, show_progress=False):
    """FID of ``num_samples`` samples (z from ``seed``) against ``real_images`` on InceptionV3's pool
    features (`inception_fid`, with ``inception_checkpoint``) and / or on the small classifier's
    (with ``classifier_dir``); a dict of the distances computed."""
    if not inception_checkpoint and not classifier_dir:
        raise ValueError('give an InceptionV3 checkpoint, a small-classifier train dir, or both')
    samples = generated_images(gan_checkpoint, num_samples, seed)
    if samples.shape[1:] != real_images.shape[1:]:
        raise ValueError('the samples are %s images, the real ones %s'
                         % (list(samples.shape[1:]), list(real_images.shape[1:])))
    results = {'num_samples': int(len(samples)), 'num_real_images': int(len(real_images))}
    if inception_checkpoint:
        results['fid_inception_v3'] = inception_fid.frechet_inception_distance(
            inception_checkpoint, samples, real_images, show_progress=show_progress)
    if classifier_dir:
        results['fid_small_classifier'] = frechet_distance.feature_frechet_distance(
            classify(classifier_dir, samples)[0], classify(classifier_dir, real_images)[0])
    return results
