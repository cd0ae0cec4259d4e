"""Converts a published darknet YOLO v1 model (cfg + weights) into a TF checkpoint of this repository.

    python scripts/convert_darknet.py --cfg=yolov1.cfg --weights=yolov1.weights \\
        --output=checkpoints/yolov1_voc
    python scripts/convert_darknet.py --write_paper_cfg=yolo_v1_paper.cfg   # the paper's net as a cfg

Reads darknet's INI-style cfg and its weights file without darknet (the header's ``seen`` as 32 or 64
bits by version; per layer in the cfg's order: biases, batch-norm statistics, weights), builds the
cfg's own net (darknet's yolov1.cfg with its locally connected layer and 3 boxes per cell,
yolov1-tiny.cfg, yolo-small.cfg, the 2015 paper cfg, or the paper's net as --write_paper_cfg writes
it) and writes ``<output>.index`` / ``<output>.data-*`` atomically and ``<output>.json``: the source
files and their SHA-256, the model, the classes, the input convention (RGB in [0, 1]) and the layer
table, from which eval_voc.py and detect.py rebuild the net. A file that does not fit the cfg (too
short, too long) stops with the layer named and nothing written. Layer mapping:
``engine/darknet_conversion.py``.
"""
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
import sys

from absl import flags

from tf1zoo.converters import darknet
from tf1zoo.datasets import label_map, pascalvoc
from tf1zoo.engine import cli, darknet_conversion
from tf1zoo.ops import atomic_io


def define_flags(flag_values=flags.FLAGS):
    define = cli.Definer(flag_values)
    define.string('cfg', None, 'darknet .cfg of the model.')
    define.string('weights', None, 'darknet .weights file.')
    define.string('output', None, 'Checkpoint prefix to write (<output>.index, .data-*, .json).')
    define.list('class_names', list(pascalvoc.VOC_CLASSES),
                'Class names in the detection layer\'s order (default: the 20 VOC classes).')
    define.string('label_map', None, 'Class names from a label map, instead of --class_names.')
    define.string('write_paper_cfg', None, 'Write the paper\'s network (Figure 3) as a darknet cfg '
                  'to this path (then --cfg, --weights and --output may be omitted).')


def main(values):
    # 1. The paper's cfg, when asked for.
    if values.write_paper_cfg:
        atomic_io.write_file_atomically(values.write_paper_cfg,
                                        darknet_conversion.paper_cfg_text().encode('utf-8'))
        print('Wrote the paper\'s YOLO v1 cfg to %s' % values.write_paper_cfg)
        if not values.weights:
            return 0
    missing = [name for name in ('cfg', 'weights', 'output') if not values[name].value]
    if missing:
        print('convert_darknet.py: --%s is required' % ', --'.join(missing), file=sys.stderr)
        return 2
    # 2. The classes.
    class_names = (label_map.read_label_map(values.label_map) if values.label_map
                   else tuple(values.class_names))
    # 3. Convert; a file that does not fit is one message.
    try:
        info = darknet_conversion.convert(values.cfg, values.weights, values.output, class_names)
    except (darknet.DarknetFormatError, darknet_conversion.DarknetConversionError, ValueError) as error:
        print('convert_darknet.py: %s' % error, file=sys.stderr)
        return 1
    print('Converted %d variables of %s into %s' % (info['num_variables'], values.cfg, values.output))
    return 0


if __name__ == '__main__':
    cli.run_as_program(define_flags, main)
