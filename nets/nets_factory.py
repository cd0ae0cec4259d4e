"""Maps model names to detectors, their preprocessing and their checkpoint conventions.

A script holds a model name (``--model_name=ssd_vgg_300``); everything it needs to build, train,
evaluate or convert that model comes from here, so adding a model is one `ModelSpec` entry.
"""
import dataclasses
from typing import Callable, Mapping, Optional, Tuple

from tf1zoo.nets import (
    darknet_layers,
    inception_resnet_v2,
    refinedet320,
    refinedet_detector,
    rfcn_detector,
    rfcn_inception_resnet,
    single_shot_detector,
    ssd_vgg_300,
    yolo_detector,
    yolo_v1,
)
from tf1zoo.ops import image_conventions


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """What the scripts need to know about a model.

    build: ``(num_classes, depth_multiplier, data_format, weight_decay, weights_init, batch_norm,
      winograd_tile_size, **model_options) -> detector`` with
      ``predict``, ``loss`` and ``postprocess`` (see `single_shot_detector.SingleShotDetector`).
    preprocessing_name: the `preprocessing_factory` entry (its output size is the input size).
    image_size: the network's input side in pixels.
    default_convention: the input convention of the model's published weights.
    backbone_scope: the ImageNet-pretrained body's variable scope.
    head_scopes: the scopes trained from scratch when fine-tuning from an ImageNet body (the
      ``--checkpoint_exclude_scopes`` to use with slim's ``vgg_16.ckpt`` adds the fc layers).
    display_postprocess: post-processing that detect.py uses for pictures where it differs from the
      evaluation defaults (YOLO v1: darknet's test threshold 0.2 and NMS 0.4).
    images_per_batch: the batch size inference must use where the model fixes it (R-FCN: 1).
    supports_winograd: whether the model has Winograd convolutions (R-FCN has none).

    ``model_options`` are what a checkpoint's JSON records beyond the common settings (a converted
    darknet cfg's layer table); ``build`` raises TypeError for options the model does not take.
    """

    build: Callable
    preprocessing_name: str
    image_size: int
    default_convention: str
    backbone_scope: str
    head_scopes: Tuple[str, ...]
    display_postprocess: Mapping[str, float] = dataclasses.field(default_factory=dict)
    # Images per batch where the model needs a fixed count (R-FCN: 1, images of any size).
    images_per_batch: Optional[int] = None
    # Whether ``build`` takes a ``winograd_tile_size`` (R-FCN does not: --winograd=auto is then off).
    supports_winograd: bool = True


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
def _build_yolo_v1(num_classes, depth_multiplier=1.0, data_format='NHWC', weight_decay=0.0005,
                   weights_init='darknet', batch_norm=False, winograd_tile_size=None, layers=None,
                   dropout=None, thin_connected=True, zero_init_output=False):
    """YOLO v1: the paper's table, or ``layers`` (JSON records of a converted cfg's table);
    ``dropout`` replaces the paper's 0.5 after fc1; ``thin_connected`` False keeps fc1's width in a
    thinned net; ``zero_init_output`` starts fc2's weights at zero. ``weights_init`` does not apply (darknet's
    initialisation); ``winograd_tile_size`` runs the 3x3 stride-1 convolutions as Winograd."""
    del weights_init
    if layers is not None:
        table = darknet_layers.layers_from_json(layers)
    else:
        table = yolo_v1.yolo_v1_layers(num_classes - 1, batch_norm=batch_norm)
    if dropout is not None:
        table = darknet_layers.with_dropout(table, dropout)
    return yolo_detector.YoloV1Detector(num_classes, depth_multiplier=depth_multiplier,
                                        data_format=data_format, weight_decay=weight_decay,
                                        batch_norm=batch_norm, layers=table,
                                        winograd_tile_size=winograd_tile_size,
                                        thin_connected=thin_connected,
                                        zero_init_output=zero_init_output)


_build_refinedet320 = _detector_builder(
    refinedet_detector.RefineDetDetector, refinedet320.refinedet320,
    refinedet320.refinedet320_arg_scope, refinedet320,
    objectness_threshold=refinedet320.OBJECTNESS_THRESHOLD)


def _build_rfcn(num_classes, depth_multiplier=1.0, data_format='NHWC', weight_decay=0.0005,
                weights_init='xavier', batch_norm=False, winograd_tile_size=None,
                k=rfcn_inception_resnet.DEFAULT_K, anchor_base_size=256,
                repeats=inception_resnet_v2.DEFAULT_REPEATS, train_batch_norm=False):
    """R-FCN on Inception-ResNet-v2: ``k`` bins per side (the paper's 7), anchors of 0.5, 1, 2 x
    ``anchor_base_size`` pixels, ``repeats`` of the backbone's blocks (thin test nets). NHWC only;
    the new layers' initialisation is the release's (``weights_init`` does not apply); the
    backbone's batch norm is frozen (``batch_norm`` does not apply) unless ``train_batch_norm``
    (from scratch: batch statistics in training); no Winograd."""
    del weights_init, batch_norm
    if data_format != 'NHWC' or winograd_tile_size:
        raise ValueError('rfcn_inception_resnet runs NHWC without Winograd')
    return rfcn_detector.RfcnDetector(num_classes, k=k, depth_multiplier=depth_multiplier,
                                      repeats=tuple(repeats), weight_decay=weight_decay,
                                      anchor_base_size=anchor_base_size,
                                      train_batch_norm=train_batch_norm)


MODELS = {
    'ssd_vgg_300': ModelSpec(
        build=_build_ssd_vgg_300, preprocessing_name='ssd_300', image_size=300,
        default_convention=image_conventions.CAFFE_BGR, backbone_scope='vgg_16',
        head_scopes=('ssd_300_vgg',)),
    'refinedet320': ModelSpec(
        build=_build_refinedet320, preprocessing_name='refinedet_320', image_size=320,
        default_convention=image_conventions.CAFFE_BGR, backbone_scope='vgg_16',
        head_scopes=('refinedet320',)),
    'yolo_v1': ModelSpec(
        build=_build_yolo_v1, preprocessing_name='yolo_448', image_size=448,
        default_convention=image_conventions.DARKNET_RGB, backbone_scope='yolo_v1',
        head_scopes=yolo_v1.HEAD_SCOPES,
        display_postprocess=yolo_v1.DISPLAY_POSTPROCESS),
    # image_size: the shorter side (any aspect ratio; the longer side at most 1000).
    'rfcn_inception_resnet': ModelSpec(
        build=_build_rfcn, preprocessing_name='rfcn_600', image_size=600,
        default_convention=image_conventions.INCEPTION_RGB,
        backbone_scope=rfcn_inception_resnet.BACKBONE_SCOPE,
        head_scopes=(rfcn_inception_resnet.HEAD_SCOPE,), images_per_batch=1,
        supports_winograd=False),
}


def get_model_spec(name):
    """The `ModelSpec` of ``name``; an unknown name is a ValueError listing the known ones."""
    if name not in MODELS:
        raise ValueError('unknown model %r; known models: %s' % (name, ', '.join(sorted(MODELS))))
    return MODELS[name]
