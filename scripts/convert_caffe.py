"""Converts a published Caffe model into a TF checkpoint of this repository's net.

    python scripts/convert_caffe.py --model_name=ssd_vgg_300 \\
        --caffemodel=VGG_VOC0712_SSD_300x300_iter_120000.caffemodel --output=checkpoints/ssd300_voc0712
    python scripts/convert_caffe.py --model_name=vgg_16_reduced \\
        --caffemodel=VGG_ILSVRC_16_layers_fc_reduced.caffemodel --output=checkpoints/vgg16_reduced

Writes ``<output>.index`` and ``<output>.data-*`` (atomically: a failed conversion leaves nothing there)
and ``<output>.json``: the source file and its SHA-256, the model name, the class names and the input
convention (``caffe_bgr``: the Caffe models take BGR images minus the mean 104/117/123). The checkpoint is
a ``--checkpoint_path`` for eval_voc.py and detect.py (detectors) or train_ssd.py (the VGG base, with
``--checkpoint_exclude_scopes=ssd_300_vgg --ignore_missing_vars`` left to their initialisers). Layer
mapping and layouts: ``converters/caffe_to_tf.py``. The binary is read without Caffe, in the current
(``layer``) or the legacy V1 (``layers``) format.
"""
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
import sys

from absl import flags

from tf1zoo.converters import caffe_proto, caffe_to_tf
from tf1zoo.datasets import label_map, pascalvoc
from tf1zoo.engine import caffe_conversion, cli


def define_flags(flag_values=flags.FLAGS):
    define = cli.Definer(flag_values)
    define.enum('model_name', None, list(caffe_conversion.CONVERTIBLE_MODELS),
                'The net the caffemodel holds: a detector of nets_factory, or vgg_16_reduced (the '
                'fc-reduced VGG16 ImageNet base of SSD and RefineDet).')
    define.string('caffemodel', None, 'The binary .caffemodel file.')
    define.string('output', None, 'Checkpoint prefix to write (<output>.index, <output>.data-*, '
                  '<output>.json).')
    define.list('class_names', list(pascalvoc.VOC_CLASSES),
                'Class names of a detector, background excluded (default: the 20 VOC classes).')
    define.string('label_map', None, 'Class names of a detector from a label map (pbtxt or one name '
                  'per line), instead of --class_names.')
    define.required(['model_name', 'caffemodel', 'output'])


def main(values):
    # 1. The classes of a detector: --label_map's, else --class_names.
    class_names = (label_map.read_label_map(values.label_map) if values.label_map
                   else tuple(values.class_names))
    # 2. Convert; a file that does not fit the net is one message, not a traceback.
    try:
        info = caffe_conversion.convert(values.model_name, values.caffemodel, values.output, class_names)
    except (caffe_proto.CaffeFormatError, caffe_to_tf.ConversionError) as error:
        print('convert_caffe.py: %s' % error, file=sys.stderr)
        return 1
    print('Converted %d variables of %s into %s (unused Caffe layers: %s)'
          % (info['num_variables'], values.model_name, values.output,
             ', '.join(info['unused_caffe_layers']) or 'none'))
    return 0


if __name__ == '__main__':
    cli.run_as_program(define_flags, main)
