"""darknet's two file formats, read and written without darknet: the INI-style ``.cfg`` and ``.weights``.

A cfg is a list of sections, ``[name]`` followed by ``key=value`` lines (``#`` and ``;`` start
comments; spaces around keys and values are ignored), as darknet's ``read_cfg`` (src/parser.c) reads
it. A ``.weights`` file is a header, then every layer's float32 values in the cfg's layer order
(``load_weights_upto``):

* ``major``, ``minor``, ``revision`` as int32, then ``seen`` (images trained on) as a 64-bit
  ``size_t`` when ``major * 10 + minor >= 2`` and both are below 1000, else as an int32;
* a connected layer's weights are stored transposed when ``major`` or ``minor`` exceeds 1000.

The values' meaning per layer (biases, batch-norm statistics, weights) is the converter's business
(``engine/darknet_conversion.py``); this module only frames the bytes. Little-endian, as darknet
writes on x86.
"""
import collections
import dataclasses
import os

import numpy as np

from tf1zoo.ops import atomic_io

CfgSection = collections.namedtuple('CfgSection', ['name', 'options', 'line'])
CfgSection.__doc__ = """One ``[name]`` section: its options as strings, and the line of its header."""


class DarknetFormatError(ValueError):
    """A cfg or weights file that does not read; the message names the file (and the line)."""


@dataclasses.dataclass(frozen=True)
class WeightsHeader:
    major: int = 0
    minor: int = 2
    revision: int = 0
    seen: int = 0

    @property
    def seen_is_64_bit(self):
        return (self.major * 10 + self.minor) >= 2 and self.major < 1000 and self.minor < 1000

    @property
    def transposed_connected(self):
        return self.major > 1000 or self.minor > 1000

    @property
    def num_bytes(self):
        return 12 + (8 if self.seen_is_64_bit else 4)


def parse_cfg(text, path='<cfg>'):
    """The sections of a cfg's text, in order."""
    sections = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split('#', 1)[0].split(';', 1)[0].strip()
        if not line:
            continue
        if line.startswith('['):
            if not line.endswith(']') or len(line) < 3:
                raise DarknetFormatError('%s:%d: malformed section header %r' % (path, number, raw))
            sections.append(CfgSection(line[1:-1].strip(), {}, number))
            continue
        if '=' not in line:
            raise DarknetFormatError('%s:%d: expected key=value, got %r' % (path, number, raw))
        if not sections:
            raise DarknetFormatError('%s:%d: option before the first [section]' % (path, number))
        key, value = (part.strip() for part in line.split('=', 1))
        sections[-1].options[key] = value
    if not sections:
        raise DarknetFormatError('%s: no [section] in the file' % path)
    return sections


def read_cfg(path):
    """The sections of a cfg file; errors name the file and the line."""
    try:
        with open(path, encoding='utf-8') as stream:
            return parse_cfg(stream.read(), path)
    except OSError as error:
        raise DarknetFormatError('%s: cannot read cfg (%s)' % (path, error.strerror)) from error
    except UnicodeDecodeError as error:
        raise DarknetFormatError('%s: not a text cfg (byte %d)' % (path, error.start)) from error


def format_cfg(sections):
    """A cfg's text from ``(name, options)`` pairs (or `CfgSection`s)."""
    blocks = []
    for section in sections:
        name, options = section[0], section[1]
        blocks.append('\n'.join(['[%s]' % name] + ['%s=%s' % item for item in options.items()]))
    return '\n\n'.join(blocks) + '\n'


def read_weights(path):
    """(`WeightsHeader`, float32 values) of a ``.weights`` file."""
    try:
        with open(path, 'rb') as stream:
            data = stream.read()
    except OSError as error:
        raise DarknetFormatError('%s: cannot read weights (%s)' % (path, error.strerror)) from error
    if len(data) < 16:
        raise DarknetFormatError('%s: %d bytes, shorter than a weights header' % (path, len(data)))
    major, minor, revision = (int(v) for v in np.frombuffer(data[:12], '<i4'))
    header = WeightsHeader(major, minor, revision)
    seen_format = '<u8' if header.seen_is_64_bit else '<i4'
    if len(data) < header.num_bytes:
        raise DarknetFormatError('%s: %d bytes, shorter than its %d-byte header'
                                 % (path, len(data), header.num_bytes))
    seen = int(np.frombuffer(data[12:header.num_bytes], seen_format)[0])
    body = data[header.num_bytes:]
    if len(body) % 4:
        raise DarknetFormatError('%s: %d bytes after the header, not a whole number of float32s'
                                 % (path, len(body)))
    return dataclasses.replace(header, seen=seen), np.frombuffer(body, '<f4').astype(np.float32)


def write_weights(path, arrays, header=WeightsHeader()):
    """Writes ``header`` then the arrays' values (flattened, in order) as a ``.weights`` file,
    atomically."""
    seen_format = '<u8' if header.seen_is_64_bit else '<i4'
    parts = [np.array([header.major, header.minor, header.revision], '<i4').tobytes(),
             np.array([header.seen], seen_format).tobytes()]
    parts += [np.ascontiguousarray(array, '<f4').tobytes() for array in arrays]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    atomic_io.write_file_atomically(path, b''.join(parts))
