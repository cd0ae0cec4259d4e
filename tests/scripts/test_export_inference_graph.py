"""export_inference_graph.py: the SavedModel and the frozen graph, loaded in a process that has
TensorFlow but not this repository, give detect.py's detections on the same images."""
import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
import tiny_shapes

from tf1zoo.engine import cli
from tf1zoo.scripts import detect, export_inference_graph, train_ssd

THRESHOLDS = dict(select_threshold=0.0, nms_threshold=0.45, keep_top_k=20)

# Runs with TensorFlow alone: importing this repository's package fails there.
_SERVING_PROGRAM = r'''
import sys
sys.modules['tf1zoo'] = None
import numpy as np
import tensorflow as tf
export_dir, images_path, output_path = sys.argv[1:]
images = np.load(images_path)
serving = tf.saved_model.load(export_dir + '/saved_model').signatures['serving_default']
saved = {key: value.numpy() for key, value in serving(inputs=tf.constant(images)).items()}
graph_def = tf.compat.v1.GraphDef()
with open(export_dir + '/frozen_inference_graph.pb', 'rb') as stream:
    graph_def.ParseFromString(stream.read())
with tf.Graph().as_default() as graph:
    tf.compat.v1.import_graph_def(graph_def, name='')
    names = ['detection_boxes', 'detection_scores', 'detection_classes', 'num_detections']
    with tf.compat.v1.Session(graph=graph) as session:
        frozen = session.run({name: name + ':0' for name in names}, {'image_tensor:0': images})
np.savez(output_path, **{'saved_' + k: v for k, v in saved.items()},
         **{'frozen_' + k: v for k, v in frozen.items()})
'''


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    paths = tiny_shapes.make_tiny_records(str(tmp_path_factory.mktemp('export')), num_test=2, seed=6)
    train_dir = os.path.join(paths['root'], 'train')
    tiny_shapes.run_training(train_ssd, dataset_name='shapes', dataset_dir=paths['records'],
                             train_dir=train_dir, depth_multiplier=0.125, batch_size=2, max_steps=2,
                             progress=False)
    output_dir = os.path.join(paths['root'], 'export')
    export_inference_graph.run(cli.parse(export_inference_graph.define_flags,
                                         checkpoint_path=train_dir, output_dir=output_dir,
                                         **THRESHOLDS))
    return dict(paths, train_dir=train_dir, output_dir=output_dir)


def _png_images(exported, tmp_path):
    """Two test photos as lossless PNGs, and the same pixels as a uint8 RGB batch."""
    folder = os.path.join(exported['voc_dir'], 'JPEGImages')
    rgb = cv2.cvtColor(cv2.imread(os.path.join(folder, sorted(os.listdir(folder))[0])),
                       cv2.COLOR_BGR2RGB)
    batch = np.stack([rgb, rgb[:, ::-1]])
    paths = []
    for index, image in enumerate(batch):
        paths.append(str(tmp_path / ('image%d.png' % index)))
        cv2.imwrite(paths[-1], cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return paths, batch


def _serve(exported, batch, tmp_path):
    np.save(tmp_path / 'images.npy', batch)
    result = subprocess.run([sys.executable, '-c', _SERVING_PROGRAM, exported['output_dir'],
                             str(tmp_path / 'images.npy'), str(tmp_path / 'served.npz')],
                            capture_output=True, text=True, cwd=str(tmp_path), timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(np.load(tmp_path / 'served.npz'))


def test_saved_model_and_frozen_graph_give_detect_py_detections_without_the_repository(exported,
                                                                                       tmp_path):
    paths, batch = _png_images(exported, tmp_path)
    served = _serve(exported, batch, tmp_path)
    detect.run(cli.parse(detect.define_flags, checkpoint_path=exported['train_dir'],
                         images=','.join(paths), output_dir=str(tmp_path / 'detect'),
                         write_images=False, **THRESHOLDS))
    with open(tmp_path / 'detect' / 'detections.json') as stream:
        expected = json.load(stream)
    for form in ('saved_', 'frozen_'):
        for index, path in enumerate(paths):
            want = expected[os.path.basename(path)]
            count = int(served[form + 'num_detections'][index])
            assert count == len(want) > 0
            np.testing.assert_allclose(served[form + 'detection_boxes'][index, :count],
                                       [d['box'] for d in want], atol=1e-5)
            np.testing.assert_allclose(served[form + 'detection_scores'][index, :count],
                                       [d['score'] for d in want], atol=1e-5)
            np.testing.assert_array_equal(served[form + 'detection_classes'][index, :count],
                                          [d['class_id'] for d in want])


def test_the_export_records_its_settings_and_never_overwrites_one(exported):
    with open(os.path.join(exported['output_dir'], 'model_config.json')) as stream:
        settings = json.load(stream)
    assert settings['model_name'] == 'ssd_vgg_300' and settings['input'] == 'image_tensor'
    assert settings['postprocess'] == {'score_threshold': 0.0, 'iou_threshold': 0.45, 'keep_top_k': 20}
    before = sorted(os.listdir(exported['output_dir']))
    with pytest.raises(ValueError, match='exists and is not empty'):
        export_inference_graph.run(cli.parse(export_inference_graph.define_flags,
                                             checkpoint_path=exported['train_dir'],
                                             output_dir=exported['output_dir']))
    assert sorted(os.listdir(exported['output_dir'])) == before
    parent = os.path.dirname(exported['output_dir'])
    assert not [name for name in os.listdir(parent) if '.export-' in name]  # no staging left
