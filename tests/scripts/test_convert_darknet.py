"""convert_darknet.py checked against darknet's forward pass restated in NumPy (darknet_reference.py)
and against OpenCV 4.x's darknet importer, on a real photo, for thin versions of darknet's published
YOLO v1 cfgs (../shared/reference/darknet) and of the paper's net as the repository writes it."""
import json
import os
import pathlib
import subprocess
import sys

import caffe_reference
import cv2
import darknet_reference
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from tf1zoo.converters import darknet
from tf1zoo.engine import cli, darknet_conversion, inference, train_loop
from tf1zoo.nets import darknet_layers, nets_factory, yolo_v1
from tf1zoo.scripts import convert_darknet, detect

THIN = 16
DARKNET_DIR = pathlib.Path(__file__).resolve().parents[3] / 'shared' / 'reference' / 'darknet'


def thin_cfg(text, factor=THIN):
    """The cfg with every filters= and every hidden connected output= divided by ``factor``."""
    lines = text.splitlines()
    connected = [i for i, line in enumerate(lines) if line.strip() == '[connected]']
    last_connected = connected[-1] if connected else None
    section = None
    for index, line in enumerate(lines):
        if line.strip().startswith('['):
            section = index
        key = line.split('=')[0].strip()
        if key == 'filters' or (key == 'output' and section != last_connected):
            lines[index] = '%s=%d' % (key, max(1, int(line.split('=')[1]) // factor))
    return '\n'.join(lines) + '\n'


def _without_detection(text):
    return text[:text.index('[detection]')]


@pytest.fixture(scope='module')
def photo():
    """The photo as darknet feeds it: RGB in [0, 1], resized by darknet's resize_image to 448."""
    rgb = cv2.cvtColor(cv2.imread(caffe_reference.photo_path()), cv2.COLOR_BGR2RGB)
    return darknet_reference.darknet_resize(rgb.astype(np.float32) / 255.0, 448, 448)


def _model(tmp_path_factory, name, cfg_text, seed):
    root = tmp_path_factory.mktemp(name)
    cfg = str(root / (name + '.cfg'))
    with open(cfg, 'w') as stream:
        stream.write(cfg_text)
    weights = darknet_conversion.random_weights(cfg, str(root / (name + '.weights')), seed=seed)
    prefix = str(root / 'converted' / name)
    info = darknet_conversion.convert(cfg, weights, prefix)
    return {'root': root, 'cfg': cfg, 'weights': weights, 'prefix': prefix, 'info': info,
            'text': cfg_text}


@pytest.fixture(scope='module')
def paper(tmp_path_factory):
    return _model(tmp_path_factory, 'paper', thin_cfg(darknet_conversion.paper_cfg_text()), seed=1)


@pytest.fixture(scope='module')
def yolov1(tmp_path_factory):
    if not DARKNET_DIR.is_dir():
        pytest.skip('../shared/reference/darknet is absent')
    return _model(tmp_path_factory, 'yolov1', thin_cfg((DARKNET_DIR / 'yolov1.cfg').read_text()), seed=2)


def _tf_output(prefix, image):
    _, settings = inference.model_settings(prefix)
    with tf.Graph().as_default():
        detector = nets_factory.get_model_spec('yolo_v1').build(settings['num_classes'],
                                                                **settings['model_options'])
        images = tf.constant(image[None])
        predictions, _ = detector.predict(images, is_training=False)
        flat = tf.concat([tf.reshape(predictions[key], [1, -1]) for key in
                          ('class_probabilities', 'confidences', 'box_codes')], axis=1)
        with tf.Session() as session:
            tf.train.Saver().restore(session, prefix)
            return session.run(flat)[0]


def _assert_close_relative(ours, reference, what):
    error = np.abs(ours - reference).max() / np.abs(reference).max()
    assert error < 1e-4, '%s: relative error %.2e' % (what, error)


def test_paper_net_matches_the_numpy_darknet_and_opencv(paper, photo):
    reference, detection = darknet_reference.forward(paper['cfg'], paper['weights'],
                                                     photo.transpose(2, 0, 1))
    assert reference.shape == (1470,) and detection['num'] == '2'
    ours = _tf_output(paper['prefix'], photo)
    _assert_close_relative(ours, reference, 'TF vs NumPy darknet')
    no_detection = str(paper['root'] / 'no_detection.cfg')
    with open(no_detection, 'w') as stream:
        stream.write(_without_detection(paper['text']))
    net = cv2.dnn.readNetFromDarknet(no_detection, paper['weights'])
    net.setInput(photo.transpose(2, 0, 1)[None].astype(np.float32))
    _assert_close_relative(ours, net.forward().reshape(-1), 'TF vs OpenCV')


def test_yolov1_cfg_with_batch_norm_and_a_local_layer_matches_the_numpy_darknet(yolov1, photo):
    # OpenCV's importer has no [local] layer: NumPy's restatement is the reference here.
    reference, detection = darknet_reference.forward(yolov1['cfg'], yolov1['weights'],
                                                     photo.transpose(2, 0, 1))
    assert reference.shape == (1715,) and detection['num'] == '3'
    _assert_close_relative(_tf_output(yolov1['prefix'], photo), reference, 'yolov1.cfg')
    layers = yolov1['info']['model_options']['layers']
    assert [layer['type'] for layer in layers].count('Local') == 1
    assert sum(layer.get('batch_normalize', False) for layer in layers) == 24


@pytest.mark.parametrize('name', ['yolov1-tiny', 'yolo-small', 'yolo-2015'])
def test_the_other_published_cfgs_convert_and_match_the_numpy_darknet(tmp_path_factory, photo, name):
    if not DARKNET_DIR.is_dir():
        pytest.skip('../shared/reference/darknet is absent')
    model = _model(tmp_path_factory, name.replace('-', '_'),
                   thin_cfg((DARKNET_DIR / (name + '.cfg')).read_text()), seed=3)
    reference, _ = darknet_reference.forward(model['cfg'], model['weights'], photo.transpose(2, 0, 1))
    _assert_close_relative(_tf_output(model['prefix'], photo), reference, name)


def test_detect_py_gives_darknets_detections(paper, tmp_path):
    # The photo through detect.py's own pipeline (decode, darknet's resize, RGB in [0, 1]).
    output_dir = str(tmp_path / 'detections')
    found = detect.run(cli.parse(detect.define_flags, checkpoint_path=paper['prefix'],
                                 images=caffe_reference.photo_path(), output_dir=output_dir,
                                 select_threshold=0.001, nms_threshold=0.5, write_images=False))
    (ours,) = found.values()
    rgb = cv2.cvtColor(cv2.imread(caffe_reference.photo_path()), cv2.COLOR_BGR2RGB)
    image = darknet_reference.darknet_resize(rgb.astype(np.float32) / 255.0, 448, 448)
    reference_output, detection = darknet_reference.forward(paper['cfg'], paper['weights'],
                                                            image.transpose(2, 0, 1))
    expected = darknet_reference.detections(reference_output, detection, thresh=0.001, nms=0.5)
    assert len(ours) == len(expected) > 0
    expected.sort(key=lambda item: -item[1])
    ours.sort(key=lambda item: -item['score'])
    for mine, (class_index, score, (x, y, w, h)) in zip(ours, expected):
        assert mine['class_id'] == class_index + 1
        assert mine['score'] == pytest.approx(score, rel=1e-4, abs=1e-6)
        box = np.clip([y - h / 2, x - w / 2, y + h / 2, x + w / 2], 0.0, 1.0)
        np.testing.assert_allclose(mine['box'], box, atol=1e-4)


def test_the_json_records_the_sources_the_classes_and_the_table(paper):
    with open(paper['prefix'] + '.json') as stream:
        info = json.load(stream)
    assert info['model_name'] == 'yolo_v1' and info['input_convention'] == 'darknet_rgb'
    assert info['num_classes'] == 21 and len(info['class_names']) == 20
    assert len(info['source_sha256']) == 64 and info['weights_header']['minor'] == 2
    types = [layer['type'] for layer in info['model_options']['layers']]
    assert types.count('Convolutional') == 24 and types.count('Connected') == 2


def _write_truncated(source, path, drop_bytes=0, add_values=0):
    with open(source, 'rb') as stream:
        data = stream.read()
    data = data[:len(data) - drop_bytes] + np.zeros(add_values, '<f4').tobytes()
    with open(path, 'wb') as stream:
        stream.write(data)
    return path


def test_a_weights_file_that_does_not_fit_names_the_layer_and_writes_nothing(paper, tmp_path):
    # Layers 0-27 are the 24 convolutions and 4 pools, 28 fc1, 29 the dropout, 30 fc2.
    short = _write_truncated(paper['weights'], str(tmp_path / 'short.weights'), drop_bytes=4 * 1000)
    with pytest.raises(darknet_conversion.DarknetConversionError,
                       match=r'short\.weights ends inside layer 30 \(fc2, \[connected\] at .*paper\.cfg'):
        darknet_conversion.convert(paper['cfg'], short, str(tmp_path / 'out' / 'short'))
    long = _write_truncated(paper['weights'], str(tmp_path / 'long.weights'), add_values=3)
    with pytest.raises(darknet_conversion.DarknetConversionError, match='holds 3 values after'):
        darknet_conversion.convert(paper['cfg'], long, str(tmp_path / 'out' / 'long'))
    header_only = _write_truncated(paper['weights'], str(tmp_path / 'tiny.weights'),
                                   drop_bytes=os.path.getsize(paper['weights']) - 10)
    with pytest.raises(darknet.DarknetFormatError, match='shorter than a weights header'):
        darknet_conversion.convert(paper['cfg'], header_only, str(tmp_path / 'out' / 'header'))
    assert not os.path.exists(tmp_path / 'out') or not os.listdir(tmp_path / 'out')


def test_a_wrong_class_count_and_the_command_line(paper, tmp_path):
    with pytest.raises(ValueError, match='detects 20 classes, but 2 class names'):
        darknet_conversion.convert(paper['cfg'], paper['weights'], str(tmp_path / 'x'),
                                   class_names=('a', 'b'))
    script = os.path.join(os.path.dirname(convert_darknet.__file__), 'convert_darknet.py')
    short = _write_truncated(paper['weights'], str(tmp_path / 'short.weights'), drop_bytes=40)
    result = subprocess.run([sys.executable, script, '--cfg=' + paper['cfg'], '--weights=' + short,
                             '--output=' + str(tmp_path / 'out' / 'm')], capture_output=True, text=True)
    assert result.returncode == 1
    assert 'ends inside layer 30' in result.stderr and 'Traceback' not in result.stderr
    assert not os.path.exists(tmp_path / 'out')


def test_the_weights_header_versions(tmp_path):
    # seen is 64-bit from version 0.2 on (major * 10 + minor >= 2), 32-bit before; major or minor
    # above 1000 marks transposed connected weights.
    for header, size in ((darknet.WeightsHeader(0, 1, 0, 7), 16), (darknet.WeightsHeader(0, 2, 0, 7), 20),
                         (darknet.WeightsHeader(1001, 0, 0, 7), 16)):
        path = str(tmp_path / 'w.weights')
        darknet.write_weights(path, [np.arange(3, dtype=np.float32)], header)
        assert os.path.getsize(path) == size + 12
        read_header, values = darknet.read_weights(path)
        assert read_header == header and list(values) == [0.0, 1.0, 2.0]
    assert darknet.WeightsHeader(1001, 0).transposed_connected
    assert not darknet.WeightsHeader(0, 2).transposed_connected


def _classifier_cfg():
    """darknet's extraction.cfg in shape, thinned: the paper's first 20 convolutions with batch norm,
    a 1x1 convolution to 1000 classes (62 once thinned), [avgpool], [softmax]."""
    body = [layer for layer in yolo_v1.yolo_v1_layers(batch_norm=True)
            if isinstance(layer, (darknet_layers.Convolutional, darknet_layers.MaxPool))][:24]
    assert sum(isinstance(layer, darknet_layers.Convolutional) for layer in body) == 20
    layers = tuple(body) + (darknet_layers.Convolutional(1000, 1, 1, 0, False, 'leaky'),
                            darknet_layers.AvgPool(), darknet_layers.Softmax())
    return thin_cfg(darknet.format_cfg(darknet_layers.cfg_sections(layers, {'height': 448})))


def test_an_imagenet_classifier_converts_and_initialises_the_first_20_convolutions(tmp_path_factory,
                                                                                   photo):
    model = _model(tmp_path_factory, 'classifier', _classifier_cfg(), seed=4)
    assert model['info']['model_name'] == 'darknet_classifier' and 'class_names' not in model['info']
    reference, _ = darknet_reference.forward(model['cfg'], model['weights'], photo.transpose(2, 0, 1))
    assert reference.sum() == pytest.approx(1.0)
    reader = tf.train.load_checkpoint(model['prefix'])
    assert reader.has_tensor('yolo_v1/conv20/BatchNorm/moving_variance')
    with tf.Graph().as_default():
        detector = nets_factory.get_model_spec('yolo_v1').build(21, depth_multiplier=1 / THIN,
                                                                batch_norm=True)
        detector.predict(tf.zeros([1, 448, 448, 3]), is_training=False)
        init_fn = train_loop.checkpoint_init_fn(model['prefix'], exclude_scopes=yolo_v1.HEAD_SCOPES)
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            init_fn(None, session)
            conv20, = [variable for variable in tf.global_variables()
                       if variable.op.name == 'yolo_v1/conv20/weights']
            restored = session.run(conv20)
    np.testing.assert_array_equal(restored, reader.get_tensor('yolo_v1/conv20/weights'))
