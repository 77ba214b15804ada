"""The import graph of the package runs one way (ARCHITECTURE.md): a module imports only from its own
layer's package or from layers below, and imports sit at the top of modules (none hidden inside a
function to dodge a cycle; optional extras are the exception)."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / 'code' / 'semsyn'

# bottom to top; a module of layer k may import from layers < k, and within layer k from its own package
LAYERS = [
    {'errors'},
    {'faults'},
    {'fileio', 'devices', 'rng', 'host_memory', 'paths'},
    {'weights', 'distributed', 'checkpoints', 'checkpoint_sets'},
    {'norm_spec'},
    {'option_table'},
    {'visual'},
    {'data'},
    {'models'},
    {'kernels'},
    {'options'},
    {'metrics'},
    {'inference'},
    {'training', 'testing'},
    {'synthesizer', 'evaluate'},
    {'parity', 'cli', 'app'},
]
OPTIONAL_EXTRAS = {'torch.utils.tensorboard'}  # imported where used, with a clear error if absent


def layer_of(part):
    for k, names in enumerate(LAYERS):
        if part in names:
            return k
    raise AssertionError(f'semsyn.{part} is in no layer of this test (and of ARCHITECTURE.md)')


def modules():
    for path in sorted(PACKAGE.rglob('*.py')):
        rel = path.relative_to(PACKAGE.parent).with_suffix('')
        parts = list(rel.parts)
        if parts[-1] == '__init__':
            parts = parts[:-1]
        yield path, parts


def imported(path, parts):
    """(semsyn module parts or external name, at module level?) of every import in the file."""
    tree = ast.parse(path.read_text())
    top = {id(n) for n in tree.body}
    package = parts if path.name == '__init__.py' else parts[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                target = base + (node.module.split('.') if node.module else [])
            else:
                target = node.module.split('.')
            yield target, id(node) in top, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split('.'), id(node) in top, node.lineno


def test_every_module_is_in_a_layer():
    for _, parts in modules():
        if len(parts) > 1:
            layer_of(parts[1])


@pytest.mark.parametrize('path,parts', list(modules()), ids=lambda p: '.'.join(p) if isinstance(p, list) else '')
def test_imports_run_one_way_and_sit_at_the_top(path, parts):
    if len(parts) < 2:
        return  # semsyn/__init__.py: the package's public names, from any layer
    own = parts[1]
    for target, at_top, line in imported(path, parts):
        name = '.'.join(target)
        if target[0] != 'semsyn':
            if not at_top and not any(name.startswith(x) for x in OPTIONAL_EXTRAS):
                raise AssertionError(f'{path.name}:{line}: import {name} inside a function')
            continue
        assert at_top or name == 'semsyn', f'{path.name}:{line}: import {name} inside a function'
        if len(target) < 2 or target[1] == own:
            continue
        assert layer_of(target[1]) < layer_of(own), \
            f'{path.name}:{line}: semsyn.{own} (layer {layer_of(own)}) imports {name} (layer {layer_of(target[1])})'
