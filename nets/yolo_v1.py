"""YOLO v1 (Redmon, Divvala, Girshick and Farhadi, CVPR 2016): the paper's network, Figure 3.

A 448 x 448 x 3 input (darknet's RGB in [0, 1]) goes through 24 convolutional layers, the 1x1
reductions alternating with 3x3 convolutions as in GoogLeNet, four 2x2/2 max pools, two fully
connected layers (4096, then S x S x (B * 5 + C) = 7 x 7 x 30 = 1470 outputs), leaky ReLU 0.1 on every
layer but the last (linear) and dropout 0.5 after the first connected layer (sec. 2 and 2.2):

    448 -> conv1 7x7/2 64 -> 224 -> pool -> 112 -> conv2 3x3 192 -> pool -> 56
        -> conv3-6 (1x1 128, 3x3 256, 1x1 256, 3x3 512) -> pool -> 28
        -> conv7-16 (1x1 256, 3x3 512) x 4, 1x1 512, 3x3 1024 -> pool -> 14
        -> conv17-20 (1x1 512, 3x3 1024) x 2, conv21 3x3 1024, conv22 3x3/2 1024 -> 7
        -> conv23-24 3x3 1024 -> fc1 4096 -> dropout -> fc2 1470

The first 20 convolutions are the ImageNet-pretrained part (sec. 2.2). The layers come from one
table, `yolo_v1_layers`, built with darknet's semantics (`darknet_layers`: symmetric padding,
channel-major flatten), so darknet's cfgs (yolov1.cfg with its ``[local]`` layer and 3 boxes per cell,
yolo-small.cfg, yolov1-tiny.cfg) build through the same code with their own tables.

The output is laid out as darknet's detection layer reads it: S*S*C class probabilities, then S*S*B
confidences, then S*S*B*4 box codes ``(x, y, sqrt w, sqrt h)`` (`ops.yolo_box_coder`), cells
row-major.
"""
import tensorflow.compat.v1 as tf

from tf1zoo.nets import darknet_layers
from tf1zoo.nets.darknet_layers import AvgPool, Connected, Convolutional, Detection, Dropout, MaxPool

GRID_SIZE = 7
NUM_BOXES = 2
NUM_CLASSES = 20
PRETRAINED_CONVOLUTIONS = 20
# darknet's test_yolo shows boxes above 0.2 after NMS 0.4; validate_yolo keeps everything above
# 0.001 after NMS 0.5 for the mAP (examples/yolo.c). A cell's boxes x classes bound the count.
DISPLAY_POSTPROCESS = {'score_threshold': 0.2, 'iou_threshold': 0.4}
POSTPROCESS_DEFAULTS = {'score_threshold': 0.001, 'iou_threshold': 0.5, 'top_k_per_class': None}

# (filters, size, stride) of the 24 convolutions, 'M' for a 2x2/2 max pool (Figure 3).
_PAPER_BODY = ((64, 7, 2), 'M', (192, 3, 1), 'M',
               (128, 1, 1), (256, 3, 1), (256, 1, 1), (512, 3, 1), 'M') + \
    ((256, 1, 1), (512, 3, 1)) * 4 + ((512, 1, 1), (1024, 3, 1), 'M') + \
    ((512, 1, 1), (1024, 3, 1)) * 2 + ((1024, 3, 1), (1024, 3, 2), (1024, 3, 1), (1024, 3, 1))


def yolo_v1_layers(num_classes=NUM_CLASSES, grid_size=GRID_SIZE, num_boxes=NUM_BOXES,
                   batch_norm=False):
    """The paper's layer table: 24 convolutions (``pad=1``, leaky), connected 4096 (leaky), dropout
    0.5, connected S*S*(B*5+C) (linear), and the detection layer with the paper's loss weights.

    ``batch_norm`` puts batch norm on every convolution (darknet's later yolov1.cfg does; the paper
    does not) and on fc1 (darknet's connected layers take it too): for training from scratch, where
    without it Adam drives every fc1 unit to leaky ReLU's negative side (docs/experiments.md).
    """
    body = []
    for entry in _PAPER_BODY:
        if entry == 'M':
            body.append(MaxPool(2, 2))
        else:
            filters, size, stride = entry
            body.append(Convolutional(filters, size, stride, padding=size // 2,
                                      batch_normalize=batch_norm, activation='leaky'))
    detection = Detection(classes=num_classes, side=grid_size, num=num_boxes)
    return tuple(body) + (Connected(4096, 'leaky', batch_normalize=batch_norm), Dropout(0.5),
                          Connected(detection.outputs, 'linear'), detection)


def yolo_v1_classifier_layers(num_classes, batch_norm=False):
    """The paper's pretraining network (sec. 2.2): the first 20 convolutions of `yolo_v1_layers` (with
    their max pools), an average pool and a fully connected layer of ``num_classes`` logits (linear).

    Its variables carry the detector's names (``yolo_v1/conv1`` ... ``conv20``, with the classifier's
    layer as ``fc1``), so a trained classifier initialises the detector with `HEAD_SCOPES` excluded.
    """
    body = yolo_v1_layers(batch_norm=batch_norm)
    convolutions = [i for i, layer in enumerate(body) if isinstance(layer, Convolutional)]
    last = convolutions[PRETRAINED_CONVOLUTIONS - 1]
    return tuple(body[:last + 1]) + (AvgPool(), Connected(num_classes, 'linear'))


def yolo_v1_classifier(inputs, layers, is_training=True, data_format='NHWC', reuse=None,
                       scope='yolo_v1'):
    """A classifier table (`yolo_v1_classifier_layers`, or a darknet ImageNet cfg's) under YOLO v1's
    scope and names, so that it initialises the detector by name; call it in `yolo_v1_arg_scope`.

    Args:
      inputs: float32 ``[batch, height, width, 3]`` RGB in [0, 1] (NHWC whatever ``data_format``).
      layers: the table, already thinned where wanted.

    Returns:
      (the last layer's output, e.g. float32 ``[batch, num_classes]`` logits, end_points).
    """
    return _table_in_scope(inputs, layers, is_training, data_format, reuse, scope)


def _table_in_scope(inputs, layers, is_training, data_format, reuse, scope, zero_init_output=False):
    """A layer table on NHWC ``inputs`` under ``scope``: (last output, end_points)."""
    with tf.variable_scope(scope, 'yolo_v1', [inputs], reuse=reuse) as sc:
        net = inputs if data_format == 'NHWC' else tf.transpose(inputs, [0, 3, 1, 2])
        return darknet_layers.darknet_net(net, layers, is_training=is_training,
                                          data_format=data_format, scope=sc,
                                          zero_init_output=zero_init_output)


def split_outputs(outputs, detection):
    """The flat output -> (class probabilities ``[batch, S*S, C]``, confidences ``[batch, S*S, B]``,
    box codes ``[batch, S*S, B, 4]``), darknet's order."""
    cells, classes, boxes = detection.side * detection.side, detection.classes, detection.num
    class_end = cells * classes
    confidence_end = class_end + cells * boxes
    return (tf.reshape(outputs[:, :class_end], [-1, cells, classes]),
            tf.reshape(outputs[:, class_end:confidence_end], [-1, cells, boxes]),
            tf.reshape(outputs[:, confidence_end:], [-1, cells, boxes, detection.coords]))


def yolo_v1(inputs, num_classes=NUM_CLASSES, is_training=True, depth_multiplier=1.0,
            grid_size=GRID_SIZE, num_boxes=NUM_BOXES, batch_norm=False, layers=None,
            data_format='NHWC', reuse=None, scope='yolo_v1', thin_connected=True,
            zero_init_output=False):
    """YOLO v1.

    Args:
      inputs: float32 ``[batch, 448, 448, 3]`` RGB in [0, 1] (NHWC whatever ``data_format``).
      num_classes: C, the classes without a background (the paper's 20).
      is_training: dropout (and batch norm, through the arg_scope).
      depth_multiplier: thins every layer but the output (1.0 is the paper's net).
      thin_connected: False keeps fc1 at its full width in a thinned net (4,096 units: its
        weights per cell are what the head learns slowest, docs/experiments.md "YOLO v1").
      zero_init_output: fc2's weights start at zero, so every output starts at the same constant
        for every image (darknet initialises them randomly).
      grid_size, num_boxes: S and B.
      batch_norm: batch norm on the convolutions and fc1 (`yolo_v1_layers`).
      layers: another layer table (a darknet cfg's), replacing the paper's.
      data_format: 'NHWC' or 'NCHW' for the convolutions.
      reuse, scope: variable scope.

    Returns:
      (flat outputs float32 ``[batch, S*S*(C + 5B)]``, end_points with every layer's output and
      ``class_probabilities``, ``confidences``, ``box_codes`` as `split_outputs`).
    """
    if layers is None:
        layers = yolo_v1_layers(num_classes, grid_size, num_boxes, batch_norm)
    detection = darknet_layers.detection_layer(layers)
    layers = darknet_layers.thinned(layers, depth_multiplier, thin_connected)
    outputs, end_points = _table_in_scope(inputs, layers, is_training, data_format, reuse, scope,
                                          zero_init_output)
    if outputs.shape[-1] != detection.outputs:
        raise ValueError('the last layer gives %s values, the detection layer reads %d'
                         % (outputs.shape[-1], detection.outputs))
    class_probabilities, confidences, box_codes = split_outputs(outputs, detection)
    end_points.update(class_probabilities=class_probabilities, confidences=confidences,
                      box_codes=box_codes)
    return outputs, end_points


yolo_v1.default_image_size = 448


def yolo_v1_arg_scope(weight_decay=0.0005, is_training=True, data_format='NHWC',
                      winograd_tile_size=None):
    """darknet's training settings: weight decay 5e-4 on the weights, its scaled uniform init;
    ``winograd_tile_size``: Winograd for the 3x3 stride-1 convolutions (`darknet_arg_scope`)."""
    return darknet_layers.darknet_arg_scope(weight_decay=weight_decay, is_training=is_training,
                                            data_format=data_format,
                                            winograd_tile_size=winograd_tile_size)


# What training from an ImageNet classifier (the first 20 convolutions, sec. 2.2) initialises
# from scratch: the --checkpoint_exclude_scopes of train_yolo.py with such a checkpoint.
HEAD_SCOPES = tuple('yolo_v1/conv%d' % index for index in range(PRETRAINED_CONVOLUTIONS + 1, 25)) + (
    'yolo_v1/fc1', 'yolo_v1/fc2')
