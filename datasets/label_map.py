"""Label maps: the class names of a dataset the repository does not know, read from a file.

Two formats are read:

* the TF Object Detection API's ``label_map.pbtxt`` (a text-format ``StringIntLabelMap``)::

      item { id: 1 name: 'cat' display_name: 'Cat' }
      item { name: "dog" id: 2 }

  ``name`` is the class name: the ``<name>`` of a VOC ``<object>`` or the ``name`` of a COCO
  category must equal it (as the OD API's ``label_map_util.get_label_map_dict`` matches them).
  ``display_name`` and other fields are read and ignored. Ids must be unique positive integers
  (0 is the background); gaps are allowed (COCO's label map has ids 1..90 for 80 classes): the
  classes are numbered 1..N in the order of their ids, which is the repository's class id.
* a plain text file of one class name per line, class id = line number (blank lines and lines
  starting with ``#`` are skipped).

A file is read as pbtxt when its first meaningful token is ``item``. Every problem (a syntax error,
a missing name or id, a duplicate) is a `DatasetError` naming the file and the line.
"""
import re

from tf1zoo.datasets.tfrecord_io import DatasetError
from tf1zoo.ops import atomic_io

_TOKEN = re.compile(r'''
    (?P<space>\s+) | (?P<comment>\#[^\n]*) |
    (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*') |
    (?P<open>\{) | (?P<close>\}) | (?P<colon>:) |
    (?P<word>[A-Za-z_][A-Za-z0-9_.]*) | (?P<number>[-+]?[0-9][0-9.eE+-]*)
''', re.VERBOSE)
_ESCAPES = {'n': '\n', 't': '\t', 'r': '\r', '\\': '\\', "'": "'", '"': '"'}


def read_label_map(path):
    """The class names of a label map file, in class-id order (class id = index + 1).

    Args:
      path: a ``.pbtxt`` label map or a plain text file of one name per line.

    Returns:
      Tuple of class names, background excluded.

    Raises:
      DatasetError: the file cannot be read or is malformed (file and line named).
    """
    try:
        with open(path, encoding='utf-8') as stream:
            text = stream.read()
    except OSError as error:
        raise DatasetError(path, 'cannot read label map (%s)' % error.strerror) from error
    except UnicodeDecodeError as error:
        raise DatasetError(path, 'label map is not UTF-8 text (byte %d)' % error.start) from error
    tokens = list(_tokenize(text, path))
    if tokens and tokens[0][1] == 'item':
        names = _pbtxt_class_names(tokens, path)
    else:
        names = _plain_class_names(text, path)
    if not names:
        raise DatasetError(path, 'label map names no class')
    return names


def _plain_class_names(text, path):
    names, seen = [], {}
    for line_number, line in enumerate(text.splitlines(), 1):
        name = line.strip()
        if not name or name.startswith('#'):
            continue
        if name in seen:
            raise DatasetError(path, 'line %d: class %r already named on line %d'
                               % (line_number, name, seen[name]))
        seen[name] = line_number
        names.append(name)
    return tuple(names)


def _tokenize(text, path):
    """(kind, value, line) triples of a text-format protobuf, without spaces and comments."""
    position, line = 0, 1
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise DatasetError(path, 'line %d: unexpected character %r' % (line, text[position]))
        kind = match.lastgroup
        if kind not in ('space', 'comment'):
            yield kind, match.group(), line
        line += match.group().count('\n')
        position = match.end()


def _unquote(token):
    """A quoted token's text, C-style escapes resolved."""
    return re.sub(r'\\(.)', lambda match: _ESCAPES.get(match.group(1), match.group(1)), token[1:-1])


def _pbtxt_items(tokens, path):
    """Each ``item { ... }`` as (dict of its scalar fields, line of the item)."""
    index = 0
    while index < len(tokens):
        _, value, line = tokens[index]
        if value != 'item' or index + 1 >= len(tokens) or tokens[index + 1][0] != 'open':
            raise DatasetError(path, 'line %d: expected "item {", got %r' % (line, value))
        fields, index = _pbtxt_block(tokens, index + 2, path, line)
        yield fields, line


def _pbtxt_block(tokens, index, path, open_line):
    """Reads ``field: value`` pairs up to the matching ``}``; nested blocks are skipped."""
    fields = {}
    while index < len(tokens):
        kind, value, line = tokens[index]
        if kind == 'close':
            return fields, index + 1
        if kind != 'word':
            raise DatasetError(path, 'line %d: expected a field name, got %r' % (line, value))
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if following is not None and following[0] == 'open':  # e.g. keypoints { ... }
            _, index = _pbtxt_block(tokens, index + 2, path, line)
            continue
        if following is None or following[0] != 'colon' or index + 2 >= len(tokens):
            raise DatasetError(path, 'line %d: expected "%s: <value>"' % (line, value))
        value_kind, raw, value_line = tokens[index + 2]
        if value_kind == 'string':
            fields.setdefault(value, (_unquote(raw), value_line))
        elif value_kind in ('number', 'word'):
            fields.setdefault(value, (raw, value_line))
        else:
            raise DatasetError(path, 'line %d: field %s has no value' % (value_line, value))
        index += 3
    raise DatasetError(path, 'line %d: "{" is never closed' % open_line)


def _pbtxt_class_names(tokens, path):
    by_id, names_seen = {}, {}
    for fields, line in _pbtxt_items(tokens, path):
        if 'name' not in fields or 'id' not in fields:
            raise DatasetError(path, 'line %d: item needs both "name" and "id"' % line)
        name, name_line = fields['name']
        raw_id, id_line = fields['id']
        try:
            class_id = int(raw_id)
        except ValueError:
            raise DatasetError(path, 'line %d: id %r is not an integer' % (id_line, raw_id)) from None
        if class_id <= 0:
            raise DatasetError(path, 'line %d: id %d of %r must be positive (0 is the background)'
                               % (id_line, class_id, name))
        if class_id in by_id:
            raise DatasetError(path, 'line %d: id %d is used twice' % (id_line, class_id))
        if name in names_seen:
            raise DatasetError(path, 'line %d: class %r already named on line %d'
                               % (name_line, name, names_seen[name]))
        by_id[class_id], names_seen[name] = name, name_line
    return tuple(by_id[class_id] for class_id in sorted(by_id))


def write_label_map(path, class_names):
    """Writes ``class_names`` as a pbtxt label map (ids 1..N), e.g. to hand a dataset to the OD API."""
    items = ''.join("item {\n  id: %d\n  name: '%s'\n}\n" % (index + 1, name.replace('\\', '\\\\')
                                                                .replace("'", "\\'"))
                    for index, name in enumerate(class_names))
    atomic_io.write_file_atomically(path, items.encode('utf-8'))
