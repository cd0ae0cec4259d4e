"""convert_caffe.py checked against OpenCV 4.x's independent implementation of Caffe's layers.

A random-weight caffemodel is written for the official deploy prototxt (../shared/reference/caffe),
converted, and run by both the TF net and OpenCV's DNN module on a real photo (matplotlib's bundled
``grace_hopper.jpg``): priors, every prediction head and the final detections must agree.
"""
import json
import os
import subprocess
import sys

import caffe_reference
import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tf_slim as slim

from tf1zoo.converters import caffe_proto, caffe_to_tf, caffe_weights
from tf1zoo.engine import caffe_conversion, checkpoint_info, cli, detector_training, train_loop
from tf1zoo.nets import nets_factory, ssd_vgg_300, vgg
from tf1zoo.scripts import convert_caffe, detect

SSD_DEPLOY = 'ssd300_vgg16_voc0712_deploy.prototxt'
VGG_DEPLOY = 'vgg16_fc_reduced_deploy.prototxt'


@pytest.fixture(scope='module')
def photo_path():
    return caffe_reference.photo_path()


@pytest.fixture(scope='module')
def ssd_caffemodel(tmp_path_factory, caffe_reference_dir):
    reference = caffe_reference_dir
    root = tmp_path_factory.mktemp('ssd_caffe')
    caffemodel = str(root / 'ssd_random.caffemodel')
    deploy = caffe_proto.read_prototxt(str(reference / SSD_DEPLOY))
    caffe_proto.write_caffemodel(caffe_weights.random_caffemodel(deploy, seed=7), caffemodel)
    prefix = str(root / 'converted' / 'ssd300')
    info = caffe_conversion.convert('ssd_vgg_300', caffemodel, prefix)
    return {'deploy': reference / SSD_DEPLOY, 'caffemodel': caffemodel, 'prefix': prefix,
            'info': info, 'root': root}


@pytest.fixture(scope='module')
def ssd_outputs(ssd_caffemodel, photo_path):
    """The same input through OpenCV (Caffe's semantics) and the converted TF checkpoint."""
    image = caffe_reference.caffe_input(photo_path, 300)
    heads = ['%s_mbox_%s' % (layer.source, kind) for layer in ssd_vgg_300.PRIOR_LAYERS
             for kind in ('loc', 'conf')]
    reference = caffe_reference.opencv_forward(ssd_caffemodel['deploy'], ssd_caffemodel['caffemodel'], image,
                                heads + ['mbox_priorbox', 'detection_out'])
    with tf.Graph().as_default():
        detector = nets_factory.get_model_spec('ssd_vgg_300').build(21)
        images = tf.placeholder(tf.float32, [1, 300, 300, 3])
        predictions, _ = detector.predict(images, is_training=False)
        fetches = dict(predictions, **detector.postprocess(predictions))
        with tf.Session() as session:
            tf.train.Saver().restore(session, ssd_caffemodel['prefix'])
            ours = session.run(fetches, {images: image[np.newaxis]})
    return reference, ours


def test_json_records_source_convention_and_classes(ssd_caffemodel):
    with open(ssd_caffemodel['prefix'] + '.json') as stream:
        info = json.load(stream)
    assert info['model_name'] == 'ssd_vgg_300' and info['input_convention'] == 'caffe_bgr'
    assert len(info['source_sha256']) == 64 and info['num_classes'] == 21
    assert info['unused_caffe_layers'] == [] and info['num_variables'] == 2 * 35 + 1
    assert len(info['class_names']) == 20 and info['class_names'][0] == 'aeroplane'


def test_priors_match_opencv_priorbox(ssd_outputs):
    reference, ours = ssd_outputs
    caffe_priors = reference['mbox_priorbox'][0, 0].reshape(-1, 4)  # [xmin, ymin, xmax, ymax]
    assert caffe_priors.shape == (8732, 4)
    np.testing.assert_allclose(ours['anchors'], caffe_priors[:, [1, 0, 3, 2]], atol=1e-6)
    np.testing.assert_allclose(reference['mbox_priorbox'][0, 1].reshape(-1, 4),
                               np.tile(ssd_vgg_300.PRIOR_VARIANCES, (8732, 1)), atol=1e-7)


def test_every_head_matches_opencv(ssd_outputs):
    reference, ours = ssd_outputs
    start = 0
    for layer in ssd_vgg_300.PRIOR_LAYERS:
        # Caffe's (x, y, w, h) codes -> this repository's (y, x, h, w).
        loc = caffe_reference.head_rows(reference[layer.source + '_mbox_loc'], 4)[:, [1, 0, 3, 2]]
        conf = caffe_reference.head_rows(reference[layer.source + '_mbox_conf'], 21)
        stop = start + len(loc)
        caffe_reference.assert_close_relative(ours['box_encodings'][0, start:stop], loc,
                                              layer.source + '_mbox_loc')
        caffe_reference.assert_close_relative(ours['class_predictions_with_background'][0, start:stop],
                                              conf, layer.source + '_mbox_conf')
        start = stop
    assert start == 8732


def _detection_table(classes, scores, boxes):
    """Rows (class, score, ymin, xmin, ymax, xmax) sorted by class, then score descending."""
    table = np.column_stack([classes, scores, boxes]).astype(np.float64)
    return table[np.lexsort((-table[:, 1], table[:, 0]))]


def test_detections_match_opencv_detection_output(ssd_outputs):
    reference, ours = ssd_outputs
    caffe = reference['detection_out'][0, 0]  # [image, label, score, xmin, ymin, xmax, ymax]
    caffe = caffe[caffe[:, 2] > 0]
    count = int(ours['num_detections'][0])
    assert count == len(caffe) == ssd_vgg_300.POSTPROCESS_DEFAULTS['keep_top_k']
    expected = _detection_table(caffe[:, 1], caffe[:, 2], caffe[:, [4, 3, 6, 5]])
    actual = _detection_table(ours['detection_classes'][0, :count], ours['detection_scores'][0, :count],
                              ours['detection_boxes'][0, :count])
    np.testing.assert_array_equal(actual[:, 0], expected[:, 0])
    np.testing.assert_allclose(actual[:, 1:], expected[:, 1:], atol=1e-4)


def test_converted_checkpoint_runs_in_detect_unchanged(ssd_caffemodel, ssd_outputs, photo_path):
    output_dir = str(ssd_caffemodel['root'] / 'detect')
    detections = detect.run(cli.parse(
        detect.define_flags, checkpoint_path=ssd_caffemodel['prefix'], images=photo_path,
        output_dir=output_dir, write_images=False))
    (records,) = detections.values()
    reference, _ = ssd_outputs
    caffe = reference['detection_out'][0, 0]
    best = caffe[np.argmax(caffe[:, 2])]
    top = max(records, key=lambda record: record['score'])
    # detect.py decodes the JPEG and resizes with TF (not OpenCV): close, not equal, inputs.
    assert top['class_id'] == int(best[1])
    assert abs(top['score'] - best[2]) < 0.05


def _use_legacy_blob_shapes(model):
    """Rewrites every blob with the pre-BlobShape 4-D num/channels/height/width fields (1-padded)."""
    for layer in model.layers:
        for blob in layer.blobs:
            dims = [1] * (4 - len(blob.shape.dim)) + list(blob.shape.dim)
            blob.ClearField('shape')
            blob.num, blob.channels, blob.height, blob.width = dims


def test_vgg_base_v1_legacy_caffemodel_matches_opencv_and_initialises_ssd(caffe_reference_dir, photo_path,
                                                                   tmp_path):
    deploy_path = caffe_reference_dir / VGG_DEPLOY
    caffemodel = str(tmp_path / 'vgg_reduced.caffemodel')
    deploy = caffe_proto.read_prototxt(str(deploy_path))
    random_model = caffe_weights.random_caffemodel(deploy, seed=11)
    assert random_model.layers and not random_model.layer  # written in the legacy V1 format
    _use_legacy_blob_shapes(random_model)  # as the 2015 caffemodel stores them
    caffe_proto.write_caffemodel(random_model, caffemodel)
    prefix = str(tmp_path / 'vgg16_reduced')
    info = caffe_conversion.convert('vgg_16_reduced', caffemodel, prefix)
    assert info['unused_caffe_layers'] == ['fc8'] and 'class_names' not in info

    # 300 x 300: pool3 sees 75 x 75, where Caffe's ceil-mode pooling must give 38 x 38.
    image = caffe_reference.caffe_input(photo_path, 300)
    # In-place ReLUs: OpenCV's 'conv4_3' is before its ReLU, 'relu4_3' after.
    reference = caffe_reference.opencv_forward(deploy_path, caffemodel, image, ['relu4_3', 'relu7'])
    with tf.Graph().as_default():
        inputs = tf.constant(image[np.newaxis])
        with slim.arg_scope(vgg.vgg_arg_scope()):
            _, end_points = vgg.vgg_16_base(inputs, pool5_stride=2, fc6_dilation=3)
        with tf.Session() as session:
            tf.train.Saver().restore(session, prefix)
            ours = session.run({name: end_points[name] for name in ('conv4_3', 'fc7')})
    for name, caffe_name in (('conv4_3', 'relu4_3'), ('fc7', 'relu7')):
        caffe_reference.assert_close_relative(ours[name], reference[caffe_name].transpose(0, 2, 3, 1), name)

    # The base initialises SSD300's body by name (the SSD-only scopes keep their initialisers).
    with tf.Graph().as_default():
        detector = nets_factory.get_model_spec('ssd_vgg_300').build(21)
        detector.predict(tf.zeros([1, 300, 300, 3]), is_training=False)
        init_fn = train_loop.checkpoint_init_fn(prefix, exclude_scopes=['ssd_300_vgg'])
        with tf.Session() as session:
            init_fn(None, session)
            (fc7_weights,) = slim.get_model_variables('vgg_16/fc7/weights')
            fc7 = session.run(fc7_weights)
    # Training takes the input convention recorded with --checkpoint_path unless told otherwise.
    with open(prefix + '.json') as stream:
        recorded = json.load(stream)
    assert recorded['input_convention'] == 'caffe_bgr'
    checkpoint_info.write_json_atomically(prefix + '.json', dict(recorded, input_convention='slim_rgb'))
    for flag, expected in ((None, 'slim_rgb'), ('inception_rgb', 'inception_rgb')):
        model = detector_training.DetectorSetup('ssd_vgg_300', input_convention=flag)
        assert detector_training.resolve_input_convention(model, prefix) == expected
    (caffe_fc7,) = [layer for layer in random_model.layers if layer.name == 'fc7']
    np.testing.assert_array_equal(
        fc7, np.transpose(caffe_proto.blob_to_array(caffe_fc7.blobs[0]), (2, 3, 1, 0)))
    assert caffe_proto.blob_to_array(caffe_fc7.blobs[1]).shape == (1, 1, 1, 1024)  # legacy bias


def test_a_caffemodel_of_another_net_lists_the_misfits_and_writes_nothing(ssd_caffemodel, tmp_path):
    prefix = str(tmp_path / 'out' / 'ssd')
    with pytest.raises(caffe_to_tf.ConversionError) as error:
        caffe_conversion.convert('ssd_vgg_300', ssd_caffemodel['caffemodel'], prefix,
                              class_names=('cat', 'dog'))
    message = str(error.value)
    assert 'ssd_random.caffemodel' in message
    # 3 classes x 4 priors = 12 outputs where the caffemodel has 21 x 4 = 84: both shapes named.
    assert 'conv4_3_norm_mbox_conf' in message and '[84, 512, 3, 3]' in message
    assert '[3, 3, 512, 12]' in message
    assert 'fc7_mbox_loc' not in message  # the box heads fit
    assert not os.path.exists(os.path.dirname(prefix)) or not os.listdir(os.path.dirname(prefix))


def test_missing_layers_are_listed(tmp_path):
    net = caffe_proto.NetParameter()
    layer = net.layer.add(name='conv1_1', type='Convolution')
    layer.blobs.append(caffe_proto.array_to_blob(np.zeros((64, 3, 3, 3))))
    layer.blobs.append(caffe_proto.array_to_blob(np.zeros(64)))
    caffemodel = str(tmp_path / 'partial.caffemodel')
    caffe_proto.write_caffemodel(net, caffemodel)
    with pytest.raises(caffe_to_tf.ConversionError, match="no Caffe layer 'fc7'") as error:
        caffe_conversion.convert('vgg_16_reduced', caffemodel, str(tmp_path / 'vgg'))
    assert 'conv1_1' not in str(error.value) and "'conv5_3'" in str(error.value)
    assert sorted(os.listdir(tmp_path)) == ['partial.caffemodel']


def test_truncated_caffemodel_is_a_clear_error_and_writes_nothing(ssd_caffemodel, tmp_path):
    truncated = str(tmp_path / 'truncated.caffemodel')
    with open(ssd_caffemodel['caffemodel'], 'rb') as source, open(truncated, 'wb') as target:
        target.write(source.read(1 << 20))
    with pytest.raises(caffe_proto.CaffeFormatError, match='truncated.caffemodel'):
        caffe_conversion.convert('ssd_vgg_300', truncated, str(tmp_path / 'ssd'))
    assert sorted(os.listdir(tmp_path)) == ['truncated.caffemodel']


def test_command_line_reports_a_misfit_with_exit_status_1(ssd_caffemodel, tmp_path):
    script = os.path.join(os.path.dirname(convert_caffe.__file__), 'convert_caffe.py')
    # (As vgg_16_reduced the same file converts: SSD300's body is the VGG base.)
    result = subprocess.run([sys.executable, script, '--model_name=ssd_vgg_300', '--class_names=a,b',
                             '--caffemodel=' + ssd_caffemodel['caffemodel'],
                             '--output=' + str(tmp_path / 'vgg')], capture_output=True, text=True)
    assert result.returncode == 1
    assert 'does not fit the net' in result.stderr and 'ssd_random.caffemodel' in result.stderr
    assert os.listdir(tmp_path) == []
