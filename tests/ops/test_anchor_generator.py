"""Anchors: Caffe PriorBox by hand, SSD300's 8732 and RefineDet320's 6375 priors, RPN and YOLO grids."""
import os
import re

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from tf1zoo.nets import ssd_vgg_300
from tf1zoo.ops import anchor_generator

REFERENCE_DIR = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'shared', 'reference',
                             'caffe')
SSD300_MAP_SIZES = (38, 19, 10, 5, 3, 1)


def _ssd300_specs():
    return [anchor_generator.PriorBoxSpec(size, layer.min_size, layer.max_size, layer.aspect_ratios,
                                          True, layer.step)
            for size, layer in zip(SSD300_MAP_SIZES, ssd_vgg_300.PRIOR_LAYERS)]


def _caffe_box(cy, cx, box_h, box_w, image=300.0):
    return [(cy - box_h / 2) / image, (cx - box_w / 2) / image, (cy + box_h / 2) / image,
            (cx + box_w / 2) / image]


def test_ssd300_has_8732_priors():
    anchors = anchor_generator.MultiscaleAnchors(_ssd300_specs(), 300)
    assert anchors.num_anchors_per_location() == [4, 6, 6, 6, 4, 4]
    assert anchors.num_anchors() == 8732
    assert anchors.generate().shape == (8732, 4)


def test_ssd300_first_and_last_cells_by_hand():
    priors = anchor_generator.MultiscaleAnchors(_ssd300_specs(), 300).generate()
    r2, big = np.sqrt(2.0), np.sqrt(30.0 * 60.0)
    # conv4_3_norm cell (0, 0), centre (4, 4): min square, sqrt(min * max) square, ratio 2, ratio 1/2.
    expected = [_caffe_box(4, 4, 30, 30), _caffe_box(4, 4, big, big),
                _caffe_box(4, 4, 30 / r2, 30 * r2), _caffe_box(4, 4, 30 * r2, 30 / r2)]
    np.testing.assert_allclose(priors[:4], expected, atol=1e-6)
    # Its right neighbour (0, 1) is centred at x = 12.
    np.testing.assert_allclose(priors[4], _caffe_box(4, 12, 30, 30), atol=1e-6)
    # fc7 cell (0, 0): step 16, centre 8, ratios 2, 1/2, 3, 1/3 after the two squares.
    fc7 = priors[38 * 38 * 4:38 * 38 * 4 + 6]
    r3 = np.sqrt(3.0)
    np.testing.assert_allclose(fc7[4], _caffe_box(8, 8, 60 / r3, 60 * r3), atol=1e-6)
    np.testing.assert_allclose(fc7[5], _caffe_box(8, 8, 60 * r3, 60 / r3), atol=1e-6)
    # conv9_2's single cell is centred at 150 with the 264 and sqrt(264 * 315) squares, unclipped.
    big = np.sqrt(264.0 * 315.0)
    np.testing.assert_allclose(priors[-4:], [
        _caffe_box(150, 150, 264, 264), _caffe_box(150, 150, big, big),
        _caffe_box(150, 150, 264 / r2, 264 * r2), _caffe_box(150, 150, 264 * r2, 264 / r2)],
        atol=1e-6)
    assert priors.min() < 0 and priors.max() > 1  # clip: false


def test_clip_and_offset():
    clipped = anchor_generator.prior_boxes(2, 10, 8, clip=True)
    assert clipped.min() >= 0 and clipped.max() <= 1
    corner = anchor_generator.prior_boxes(2, 10, 2, step=5, offset=0.0)
    np.testing.assert_allclose(corner[0], [-0.1, -0.1, 0.1, 0.1], atol=1e-7)


def test_aspect_ratio_expansion_follows_caffe():
    assert anchor_generator.expand_aspect_ratios([2, 3], flip=True) == [1, 2, 0.5, 3, 1 / 3]
    assert anchor_generator.expand_aspect_ratios([1, 2, 2.0000001], flip=False) == [1, 2]


def test_refinedet320_has_6375_anchors_by_hand():
    anchors = anchor_generator.refinedet_anchors(320)
    assert anchors.shape == (6375, 4)
    assert 40 * 40 * 3 + 20 * 20 * 3 + 10 * 10 * 3 + 5 * 5 * 3 == 6375
    r2 = np.sqrt(2.0)
    np.testing.assert_allclose(anchors[:3], [
        _caffe_box(4, 4, 32, 32, 320), _caffe_box(4, 4, 32 / r2, 32 * r2, 320),
        _caffe_box(4, 4, 32 * r2, 32 / r2, 320)], atol=1e-6)
    # The last cell of the 5 x 5 level: centre (4.5 * 64, 4.5 * 64) = 288, size 256.
    np.testing.assert_allclose(anchors[-3], _caffe_box(288, 288, 256, 256, 320), atol=1e-6)


def _prior_box_params(prototxt):
    """The prior_box_param blocks of a deploy prototxt, in file order (a minimal text-format read)."""
    layers = []
    for block in re.findall(r'prior_box_param\s*\{(.*?)\}', prototxt, flags=re.S):
        values = {}
        for key, value in re.findall(r'(\w+):\s*([\w.]+)', block):
            values.setdefault(key, []).append(value)
        layers.append(values)
    return layers


@pytest.mark.skipif(not os.path.isdir(REFERENCE_DIR), reason='../shared/reference/caffe absent')
def test_ssd300_prior_layers_match_the_released_prototxt():
    with open(os.path.join(REFERENCE_DIR, 'ssd300_vgg16_voc0712_deploy.prototxt')) as prototxt:
        params = _prior_box_params(prototxt.read())
    assert len(params) == len(ssd_vgg_300.PRIOR_LAYERS)
    for values, layer in zip(params, ssd_vgg_300.PRIOR_LAYERS):
        assert float(values['min_size'][0]) == layer.min_size
        assert float(values['max_size'][0]) == layer.max_size
        assert tuple(float(v) for v in values['aspect_ratio']) == layer.aspect_ratios
        assert float(values['step'][0]) == layer.step
        assert values['flip'] == ['true'] and values['clip'] == ['false']
        assert float(values.get('offset', ['0.5'])[0]) == 0.5
        np.testing.assert_allclose([float(v) for v in values['variance']],
                                   ssd_vgg_300.PRIOR_VARIANCES, rtol=1e-6)


@pytest.mark.skipif(not os.path.isdir(REFERENCE_DIR), reason='../shared/reference/caffe absent')
def test_refinedet_specs_match_the_released_prototxt():
    with open(os.path.join(REFERENCE_DIR, 'refinedet320_vgg16_voc0712_deploy.prototxt')) as f:
        params = _prior_box_params(f.read())
    specs = anchor_generator.refinedet_prior_box_specs(320)
    assert len(params) == len(specs)
    for values, spec in zip(params, specs):
        assert float(values['min_size'][0]) == spec.min_sizes
        assert 'max_size' not in values
        assert tuple(float(v) for v in values['aspect_ratio']) == spec.aspect_ratios
        assert float(values['step'][0]) == spec.step


def test_rpn_grid_anchors_by_hand():
    with tf.Graph().as_default(), tf.Session() as session:
        anchors = session.run(anchor_generator.grid_anchors(
            (2, 3), (32, 48), scales=(1.0, 2.0), aspect_ratios=(0.5, 1.0), base_size=8, stride=16))
    assert anchors.shape == (2 * 3 * 2 * 2, 4)
    # Cell (0, 0) centre (8, 8); ratio 0.5 (width / height) scale 1: h = 8 / sqrt(.5), w = 8 sqrt(.5).
    h, w = 8 / np.sqrt(0.5), 8 * np.sqrt(0.5)
    np.testing.assert_allclose(anchors[0], [(8 - h / 2) / 32, (8 - w / 2) / 48, (8 + h / 2) / 32,
                                            (8 + w / 2) / 48], atol=1e-6)
    # Scales innermost: anchor 1 is ratio 0.5 at scale 2; anchor 2 the scale-1 square.
    np.testing.assert_allclose(anchors[2], [4 / 32, 4 / 48, 12 / 32, 12 / 48], atol=1e-6)
    # Cell (1, 2): centre (24, 40), last anchor a 16 x 16 square.
    np.testing.assert_allclose(anchors[-1], [16 / 32, 32 / 48, 32 / 32, 48 / 48], atol=1e-6)


def test_yolo_grid():
    grid = anchor_generator.yolo_grid(7)
    assert grid.shape == (49, 4)
    np.testing.assert_allclose(grid[8], [1 / 7, 1 / 7, 2 / 7, 2 / 7], atol=1e-7)
    with pytest.raises(ValueError):
        anchor_generator.yolo_grid(0)


def test_bad_prior_parameters():
    with pytest.raises(ValueError, match='max_size'):
        anchor_generator.prior_boxes(2, 10, 8, max_sizes=4)
    with pytest.raises(ValueError, match='step'):
        anchor_generator.refinedet_prior_box_specs(300)
