"""Maps model names to detectors, their preprocessing and their checkpoint conventions.

A script holds a model name (``--model_name=ssd_vgg_300``); everything it needs to build, train,
evaluate or convert that model comes from here, so adding a model is one `ModelSpec` entry.
"""
import dataclasses
from typing import Callable, Tuple

from tf1zoo.nets import refinedet320, refinedet_detector, single_shot_detector, ssd_vgg_300
from tf1zoo.ops import image_conventions


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """What the scripts need to know about a model.

    build: ``(num_classes, depth_multiplier, data_format, weight_decay, weights_init, batch_norm,
      winograd_tile_size) -> detector`` with
      ``predict``, ``loss`` and ``postprocess`` (see `single_shot_detector.SingleShotDetector`).
    preprocessing_name: the `preprocessing_factory` entry (its output size is the input size).
    image_size: the network's input side in pixels.
    default_convention: the input convention of the model's published weights.
    backbone_scope: the ImageNet-pretrained body's variable scope.
    head_scopes: the scopes trained from scratch when fine-tuning from an ImageNet body (the
      ``--checkpoint_exclude_scopes`` to use with slim's ``vgg_16.ckpt`` adds the fc layers).
    """

    build: Callable
    preprocessing_name: str
    image_size: int
    default_convention: str
    backbone_scope: str
    head_scopes: Tuple[str, ...]


def _detector_builder(detector_class, net_fn, arg_scope_fn, net_module, **detector_options):
    """The `ModelSpec.build` of a detector around one net module's priors and deploy settings."""
    def build(num_classes, depth_multiplier=1.0, data_format='NHWC', weight_decay=0.0005,
              weights_init='xavier', batch_norm=False, winograd_tile_size=None):
        return detector_class(
            net_fn, arg_scope_fn, net_module.PRIOR_LAYERS, num_classes,
            depth_multiplier=depth_multiplier, data_format=data_format, weight_decay=weight_decay,
            weights_init=weights_init, batch_norm=batch_norm, winograd_tile_size=winograd_tile_size,
            variances=net_module.PRIOR_VARIANCES,
            postprocess_defaults=net_module.POSTPROCESS_DEFAULTS, **detector_options)
    return build


_build_ssd_vgg_300 = _detector_builder(
    single_shot_detector.SingleShotDetector, ssd_vgg_300.ssd_vgg_300,
    ssd_vgg_300.ssd_vgg_300_arg_scope, ssd_vgg_300)
_build_refinedet320 = _detector_builder(
    refinedet_detector.RefineDetDetector, refinedet320.refinedet320,
    refinedet320.refinedet320_arg_scope, refinedet320,
    objectness_threshold=refinedet320.OBJECTNESS_THRESHOLD)


MODELS = {
    'ssd_vgg_300': ModelSpec(
        build=_build_ssd_vgg_300, preprocessing_name='ssd_300', image_size=300,
        default_convention=image_conventions.CAFFE_BGR, backbone_scope='vgg_16',
        head_scopes=('ssd_300_vgg',)),
    'refinedet320': ModelSpec(
        build=_build_refinedet320, preprocessing_name='refinedet_320', image_size=320,
        default_convention=image_conventions.CAFFE_BGR, backbone_scope='vgg_16',
        head_scopes=('refinedet320',)),
}


def get_model_spec(name):
    """The `ModelSpec` of ``name``; an unknown name is a ValueError listing the known ones."""
    if name not in MODELS:
        raise ValueError('unknown model %r; known models: %s' % (name, ', '.join(sorted(MODELS))))
    return MODELS[name]
