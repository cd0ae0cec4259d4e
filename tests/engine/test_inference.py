"""--winograd choices per model: 'auto' leaves a model without Winograd convolutions (R-FCN) on TF's."""
from unittest import mock

from tf1zoo.engine import inference
from tf1zoo.ops import winograd


def test_auto_is_adaptive_on_a_onednn_cpu_except_for_a_model_without_winograd():
    with mock.patch.object(inference.compat, 'onednn_enabled', return_value=True), \
            mock.patch.object(inference.tf.config, 'list_physical_devices', return_value=[]):
        assert inference.winograd_tile_size('auto') == winograd.ADAPTIVE
        assert inference.winograd_tile_size('auto', 'ssd_vgg_300') == winograd.ADAPTIVE
        assert inference.winograd_tile_size('auto', 'rfcn_inception_resnet') is None
        assert inference.DetectionOptions().keywords('rfcn_inception_resnet')['winograd_tile_size'] is None
    # An explicit choice stays as asked (R-FCN's build then refuses it by name).
    assert inference.winograd_tile_size('4', 'rfcn_inception_resnet') == 4
