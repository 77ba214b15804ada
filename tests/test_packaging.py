"""The package's metadata tells the truth: a licence, authors, and requirements that the code uses."""

import re
from pathlib import Path

import pytest

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = pytest.importorskip('tomli')

import yaml

ROOT = Path(__file__).resolve().parents[1]
CODE = ROOT / 'code' / 'semsyn'

# distribution name -> the module it is imported as
IMPORT_NAMES = {'pillow': 'PIL', 'pyyaml': 'yaml', 'pytorch-fid': 'pytorch_fid'}


def _pyproject():
    return tomllib.loads((ROOT / 'pyproject.toml').read_text())


def _requirements():
    names = []
    for line in (ROOT / 'requirements.txt').read_text().splitlines():
        line = line.split('#', 1)[0].strip()
        if line:
            names.append(re.split(r'[<>=!~\[; ]', line, maxsplit=1)[0].lower())
    return names


def _imported_modules():
    pattern = re.compile(r'^\s*(?:import|from)\s+([A-Za-z_][A-Za-z0-9_]*)', re.MULTILINE)
    found = set()
    for path in CODE.rglob('*.py'):
        found.update(pattern.findall(path.read_text()))
    return found


def test_metadata_has_licence_and_authors():
    project = _pyproject()['project']
    assert project.get('license'), 'pyproject.toml: [project] needs a license'
    text = project['license'].get('text', '') if isinstance(project['license'], dict) else project['license']
    assert 'MIT' in text
    assert project.get('authors'), 'pyproject.toml: [project] needs authors'
    assert (ROOT / 'LICENSE').is_file()
    assert 'MIT License' in (ROOT / 'LICENSE').read_text()


def test_every_requirement_is_imported_by_the_package():
    imported = _imported_modules()
    unused = [name for name in _requirements() if IMPORT_NAMES.get(name, name.replace('-', '_')) not in imported]
    assert not unused, f'requirements.txt lists packages code/semsyn never imports: {unused}'


def test_extras_named_in_requirements_header_exist():
    header = ' '.join(line for line in (ROOT / 'requirements.txt').read_text().splitlines() if line.startswith('#'))
    match = re.search(r'extras there:\s*([^.(]+)', header)
    named = {e.strip() for e in re.split(r',|\band\b', match.group(1)) if e.strip()} if match else set()
    defined = set(_pyproject()['project'].get('optional-dependencies', {}))
    assert named <= defined, f'requirements.txt names extras pyproject.toml does not define: {named - defined}'


def test_citation_file_is_cff_1_2():
    cff = yaml.safe_load((ROOT / 'CITATION.cff').read_text())
    assert cff['cff-version'] == '1.2.0'
    for key in ('message', 'title', 'authors'):
        assert cff.get(key), f'CITATION.cff needs {key}'
    assert cff.get('version') == _pyproject()['project']['version']
