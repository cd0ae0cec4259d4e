"""Pascal VOC reader: a devkit folder (``Annotations/``, ``JPEGImages/``, ``ImageSets/Main/``) to records.

``voc_dir`` is the folder holding those three, e.g. ``VOCdevkit/VOC2007``. VOC boxes are 1-based
inclusive pixel boxes: ``xmin..xmax`` covers the continuous interval ``[xmin - 1, xmax]``, so the
normalised box is ``[(ymin - 1) / H, (xmin - 1) / W, ymax / H, xmax / W]`` (``[ymin, xmin, ymax, xmax]``
as everywhere in the repository). Class ids are 1-based indices into ``class_names`` (0 is background).
"""
import os
import xml.etree.ElementTree as ElementTree

from tf1zoo.datasets import tfrecord_io
from tf1zoo.datasets.tfrecord_io import DatasetError, ImageRecord, ObjectAnnotation

# The devkit's class list (VOCinit.m), alphabetical.
VOC_CLASSES = (
    'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
    'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train',
    'tvmonitor',
)

_BOX_TAGS = ('xmin', 'ymin', 'xmax', 'ymax')


def split_file(voc_dir, split):
    """``<voc_dir>/ImageSets/Main/<split>.txt``."""
    return os.path.join(voc_dir, 'ImageSets', 'Main', split + '.txt')


def read_image_ids(voc_dir, split):
    """The image ids of a split, in file order; a missing or empty split file is a DatasetError."""
    path = split_file(voc_dir, split)
    try:
        with open(path, 'rb') as ids_file:
            raw_lines = ids_file.read().splitlines()
    except OSError as error:
        raise DatasetError(path, 'cannot read split file (%s)' % error.strerror) from error
    lines = [_text_line(path, number, raw) for number, raw in enumerate(raw_lines, 1)]
    # Main split files hold one id a line; per-class files add a label after it.
    ids = [line.split()[0] for line in lines if line.strip()]
    if not ids:
        raise DatasetError(path, 'split %r lists no image' % split)
    return ids


def _text_line(path, number, raw):
    try:
        return raw.decode('utf-8')
    except UnicodeDecodeError as error:
        raise DatasetError(path, 'line %d is not UTF-8 text (byte 0x%02x at column %d: %r); image ids '
                           'must be file names' % (number, raw[error.start], error.start + 1,
                                                    raw)) from None


def _positive_int(root, tag, xml_path):
    text = root.findtext(tag)
    try:
        value = int(text)
    except (TypeError, ValueError):
        value = 0
    if value <= 0:
        raise DatasetError(xml_path, '<%s> must be a positive integer, got %r' % (tag, text))
    return value


def _flag(element, tag, xml_path, what):
    """A 0/1 tag; an absent tag is 0, as in the devkit's annotations that omit it."""
    text = element.findtext(tag)
    if text is None or not text.strip():
        return False
    if text.strip() not in ('0', '1'):
        raise DatasetError(xml_path, '%s: <%s> must be 0 or 1, got %r' % (what, tag, text))
    return text.strip() == '1'


def _pixel_box(element, xml_path, what):
    box = element.find('bndbox')
    if box is None:
        raise DatasetError(xml_path, '%s has no <bndbox>' % what)
    try:
        return tuple(float(box.findtext(tag)) for tag in _BOX_TAGS)
    except (TypeError, ValueError) as error:
        raise DatasetError(xml_path, '%s: <bndbox> needs numeric %s' % (what, '/'.join(_BOX_TAGS))) \
            from error


def _check_box(pixel_box, height, width, xml_path, what):
    xmin, ymin, xmax, ymax = pixel_box
    if xmin > xmax or ymin > ymax:
        raise DatasetError(xml_path, '%s: box %s has xmin > xmax or ymin > ymax' % (what, pixel_box))
    if xmin < 1 or ymin < 1 or xmax > width or ymax > height:
        raise DatasetError(xml_path, '%s: box %s lies outside the %dx%d image (1-based pixels)'
                           % (what, pixel_box, width, height))


def _parse_object(element, index, class_names, height, width, xml_path):
    name = (element.findtext('name') or '').strip()
    what = 'object %d (%r)' % (index + 1, name)
    if name not in class_names:
        raise DatasetError(xml_path, '%s: unknown class; known classes: %s'
                           % (what, ', '.join(class_names)))
    pixel_box = _pixel_box(element, xml_path, what)
    _check_box(pixel_box, height, width, xml_path, what)
    xmin, ymin, xmax, ymax = pixel_box
    return ObjectAnnotation(
        name=name,
        class_id=class_names.index(name) + 1,
        box=((ymin - 1) / height, (xmin - 1) / width, ymax / height, xmax / width),
        source_box=pixel_box,
        difficult=_flag(element, 'difficult', xml_path, what),
        truncated=_flag(element, 'truncated', xml_path, what))


def parse_annotation(xml_path, class_names=VOC_CLASSES):
    """Reads one VOC XML annotation into an ``ImageRecord`` (``source_id`` is the file's stem).

    Raises DatasetError naming the file (and the object) when the XML does not parse, lacks the
    image size, names a class outside ``class_names`` or has a box outside the image or inverted.
    """
    class_names = tuple(class_names)
    try:
        root = ElementTree.parse(xml_path).getroot()
    except ElementTree.ParseError as error:
        raise DatasetError(xml_path, 'malformed XML (%s)' % error) from error
    except OSError as error:
        raise DatasetError(xml_path, 'cannot read annotation (%s)' % error.strerror) from error
    size = root.find('size')
    if root.tag != 'annotation' or size is None:
        raise DatasetError(xml_path, 'not a VOC annotation (no <annotation><size>)')
    height = _positive_int(size, 'height', xml_path)
    width = _positive_int(size, 'width', xml_path)
    source_id = os.path.splitext(os.path.basename(xml_path))[0]
    objects = tuple(_parse_object(element, index, class_names, height, width, xml_path)
                    for index, element in enumerate(root.findall('object')))
    return ImageRecord(filename=(root.findtext('filename') or source_id + '.jpg').strip(),
                       source_id=source_id, height=height, width=width, objects=objects)


def load_example(voc_dir, image_id, class_names=VOC_CLASSES):
    """``(ImageRecord, jpeg_bytes)`` of one image; the JPEG is checked to decode at the XML's size."""
    record = parse_annotation(os.path.join(voc_dir, 'Annotations', image_id + '.xml'), class_names)
    image_path = os.path.join(voc_dir, 'JPEGImages', image_id + '.jpg')
    return record, tfrecord_io.read_checked_image(image_path, record.height, record.width)


def iterate_examples(voc_dir, split, class_names=VOC_CLASSES, skip_bad=False, num_workers=1):
    """The split's ``(ImageRecord, jpeg_bytes)`` pairs in ``ImageSets`` order, as an ExampleStream.

    A bad example (malformed XML, unknown class, bad box, missing, corrupt or wrongly sized image)
    raises DatasetError naming the file, or with ``skip_bad`` is left out and listed in the
    stream's ``skipped`` (path and reason) once iterated.
    """
    image_ids = read_image_ids(voc_dir, split)
    class_names = tuple(class_names)
    return tfrecord_io.ExampleStream(lambda image_id: load_example(voc_dir, image_id, class_names),
                                     image_ids, skip_bad=skip_bad, num_workers=num_workers,
                                     class_names=class_names)


def get_split(split_name, dataset_dir, file_pattern=None, dataset_name='pascalvoc_2007'):
    """The TFRecord files, size and classes of a converted VOC split (slim's ``get_split``).

    ``dataset_name`` is a ``dataset_factory`` name; see ``dataset_factory.get_split``.
    """
    # Imported here: the factory imports this module for VOC_CLASSES.
    from tf1zoo.datasets import dataset_factory
    return dataset_factory.get_split(dataset_name, split_name, dataset_dir, file_pattern)
