"""Label maps: the OD API's pbtxt and one name per line, read into class names by id; errors named."""
import pytest

from tf1zoo.datasets import label_map
from tf1zoo.datasets.tfrecord_io import DatasetError


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding='utf-8')
    return str(path)


def test_pbtxt_names_are_ordered_by_id_with_gaps_closed(tmp_path):
    path = _write(tmp_path, 'label_map.pbtxt', '''# two quoting styles, fields in any order
item {
  name: "/m/01g317"
  id: 7
  display_name: "person"
}
item { id: 2 name: 'cat' }
item {
  id: 3
  name: 'it\\'s "quoted"'
  keypoints { id: 0 label: "nose" }
}
''')
    # ids 2, 3, 7 -> class ids 1, 2, 3; display_name and nested blocks are read past.
    assert label_map.read_label_map(path) == ('cat', 'it\'s "quoted"', '/m/01g317')


def test_plain_text_is_one_name_per_line(tmp_path):
    path = _write(tmp_path, 'classes.txt', 'bagel\n\n# a comment\n  plus sign  \nsail\n')
    assert label_map.read_label_map(path) == ('bagel', 'plus sign', 'sail')


def test_written_label_map_reads_back(tmp_path):
    names = ('a', "b'c", 'd\\e', 'f g')
    path = str(tmp_path / 'out.pbtxt')
    label_map.write_label_map(path, names)
    assert label_map.read_label_map(path) == names


@pytest.mark.parametrize('text, problem', [
    ('item { id: 1 name: "a" }\nitem { id: 1 name: "b" }\n', 'line 2: id 1 is used twice'),
    ('item { id: 1 name: "a" }\nitem {\n id: 2\n name: "a" }\n', "line 4: class 'a' already named on line 1"),
    ('item { id: 0 name: "background" }\n', 'id 0 of \'background\' must be positive'),
    ('item { name: "a" }\n', 'line 1: item needs both "name" and "id"'),
    ('item { id: 1 name: "a"\n', '"{" is never closed'),
    ('item { id: x1 name: "a" }\n', "id 'x1' is not an integer"),
    ('item { id: 1 name "a" }\n', 'expected "name: <value>"'),
    ('item { id: 1 name: "a" }\nitems { }\n', 'line 2: expected "item {"'),
    ('item { id: 1 name: "a" ; }\n', "unexpected character ';'"),
    ('', 'names no class'),
])
def test_malformed_label_maps_name_the_file_and_the_line(tmp_path, text, problem):
    path = _write(tmp_path, 'bad.pbtxt', text)
    with pytest.raises(DatasetError, match='bad.pbtxt') as error:
        label_map.read_label_map(path)
    assert problem in str(error.value)


def test_duplicate_plain_names_and_unreadable_files_are_named(tmp_path):
    with pytest.raises(DatasetError, match="line 3: class 'a' already named on line 1"):
        label_map.read_label_map(_write(tmp_path, 'dup.txt', 'a\nb\na\n'))
    with pytest.raises(DatasetError, match='absent.txt'):
        label_map.read_label_map(str(tmp_path / 'absent.txt'))
    binary = tmp_path / 'binary.txt'
    binary.write_bytes(b'cat\n\xff\xfe\n')
    with pytest.raises(DatasetError, match='not UTF-8'):
        label_map.read_label_map(str(binary))
