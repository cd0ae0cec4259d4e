"""The package's import graph follows its layers (read with ast; nothing is imported).

    ops/            the core: imports nothing of ours above it
    nets/, preprocessing/, datasets/, converters/
                    import ops/ (and themselves)
    engine/         the library layer: imports any of the above (and itself)
    scripts/        command-line programs: import the library and below, never another script

A new model copies whatever this allows, so an edge against it fails here, naming the file and the
import.
"""
import ast
import pathlib

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = 'tf1zoo'
_MODELS_AND_DATA = {'ops'}
ALLOWED_IMPORTS = {
    'ops': {'ops'},
    'nets': _MODELS_AND_DATA | {'nets'},
    'preprocessing': _MODELS_AND_DATA | {'preprocessing'},
    'datasets': _MODELS_AND_DATA | {'datasets'},
    'converters': _MODELS_AND_DATA | {'converters'},
    'engine': {'ops', 'nets', 'preprocessing', 'datasets', 'converters', 'engine'},
    'scripts': {'ops', 'nets', 'preprocessing', 'datasets', 'converters', 'engine'},
}


def imported_packages(source, filename='<source>'):
    """(line, our top-level package, the import as written) for each import of ``tf1zoo.<package>``.

    ``from tf1zoo import nets`` and ``import tf1zoo.nets.vgg`` both name ``nets``; relative imports
    are resolved against the file's own package.
    """
    tree = ast.parse(source, filename)
    edges = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split('.')
                if parts[0] == PACKAGE and len(parts) > 1:
                    edges.append((node.lineno, parts[1], 'import %s' % alias.name))
        elif isinstance(node, ast.ImportFrom):
            written = 'from %s%s import %s' % ('.' * node.level, node.module or '',
                                               ', '.join(alias.name for alias in node.names))
            if node.level:
                edges.append((node.lineno, None, written))  # resolved by the caller
                continue
            parts = (node.module or '').split('.')
            if parts[0] != PACKAGE:
                continue
            if len(parts) > 1:
                edges.append((node.lineno, parts[1], written))
            else:
                edges.extend((node.lineno, alias.name, written) for alias in node.names)
    return edges


def layer_violations(root, allowed=ALLOWED_IMPORTS):
    """Every import against ``allowed`` in the layer folders under ``root``, as readable lines."""
    root = pathlib.Path(root)
    violations = []
    for layer in sorted(allowed):
        for path in sorted((root / layer).rglob('*.py')):
            relative = path.relative_to(root)
            for line, target, written in imported_packages(path.read_text(encoding='utf-8'),
                                                           str(path)):
                target = layer if target is None else target
                if target not in allowed[layer]:
                    violations.append('%s:%d: %s (%s/ may import only %s)'
                                      % (relative, line, written, layer,
                                         ', '.join(sorted(allowed[layer]))))
    return violations


def test_the_package_follows_its_layers():
    violations = layer_violations(REPO_ROOT)
    assert not violations, 'imports against the layers:\n' + '\n'.join(violations)


def test_scripts_holds_only_command_line_programs():
    not_programs = [path.name for path in sorted((REPO_ROOT / 'scripts').glob('*.py'))
                    if path.name != '__init__.py'
                    and "if __name__ == '__main__':" not in path.read_text(encoding='utf-8')]
    assert not not_programs, 'scripts/ modules that are no program: %s' % not_programs


def test_every_installed_package_has_a_layer():
    setup = (REPO_ROOT / 'setup.py').read_text(encoding='utf-8')
    installed = ast.literal_eval(setup.split('_PACKAGES = ', 1)[1].split('\n', 1)[0])
    assert set(installed) == set(ALLOWED_IMPORTS)


@pytest.mark.parametrize('layer, source, expected', [
    ('ops', 'from tf1zoo.datasets import standard_fields\n',
     'ops/bad.py:1: from tf1zoo.datasets import standard_fields (ops/ may import only ops)'),
    ('nets', 'import os\nfrom tf1zoo.preprocessing import image_conventions\n',
     'nets/bad.py:2: from tf1zoo.preprocessing import image_conventions (nets/ may import only nets, ops)'),
    ('datasets', 'from tf1zoo import engine\n',
     'datasets/bad.py:1: from tf1zoo import engine (datasets/ may import only datasets, ops)'),
    ('engine', 'def f():\n    import tf1zoo.scripts.train_ssd\n',
     'engine/bad.py:2: import tf1zoo.scripts.train_ssd (engine/ may import only converters, datasets, '
     'engine, nets, ops, preprocessing)'),
    ('scripts', 'from tf1zoo.scripts import train_ssd\n',
     'scripts/bad.py:1: from tf1zoo.scripts import train_ssd (scripts/ may import only converters, '
     'datasets, engine, nets, ops, preprocessing)'),
])
def test_an_edge_against_the_layers_is_named_with_its_file_and_line(tmp_path, layer, source, expected):
    for name in ALLOWED_IMPORTS:
        (tmp_path / name).mkdir()
    (tmp_path / layer / 'bad.py').write_text(source)
    assert layer_violations(tmp_path) == [expected]


def test_allowed_edges_and_other_packages_pass(tmp_path):
    for name in ALLOWED_IMPORTS:
        (tmp_path / name).mkdir()
    (tmp_path / 'nets' / 'ok.py').write_text(
        'import numpy\nfrom tf1zoo.ops import box_coder\nfrom tf1zoo.nets import vgg\nfrom . import vgg\n')
    (tmp_path / 'scripts' / 'ok.py').write_text('from tf1zoo.engine import cli\nimport tf_slim\n')
    assert layer_violations(tmp_path) == []
