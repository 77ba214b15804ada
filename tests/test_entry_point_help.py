"""Every ``python -m semsyn...`` entry point (and train.py/test.py) documents every flag in --help."""
import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from semsyn import options

PACKAGE = Path(__file__).resolve().parents[1] / 'code' / 'semsyn'


def entry_points():
    """Modules run by ``python -m``: the __main__.py files and modules with a __main__ guard."""
    for path in sorted(PACKAGE.rglob('*.py')):
        text = path.read_text()
        if path.name == '__main__.py' or "if __name__ == '__main__':" in text:
            parts = path.relative_to(PACKAGE.parent).with_suffix('').parts
            yield '.'.join(parts[:-1] if parts[-1] == '__main__' else parts)


def undocumented(parser):
    return [a.option_strings or a.dest for a in parser._actions
            if not isinstance(a, argparse._HelpAction) and a.help != argparse.SUPPRESS and not a.help]


@pytest.mark.parametrize('module', list(entry_points()))
def test_every_flag_has_help(module):
    # each entry point answers --help with exit status 0
    proc = subprocess.run([sys.executable, '-m', module, '--help'], capture_output=True, text=True, timeout=120,
                          cwd=PACKAGE.parents[1], env={'PYTHONPATH': str(PACKAGE.parent), 'PATH': ''})
    assert proc.returncode == 0 and 'usage' in proc.stdout.lower(), (module, proc.stderr[-500:])
    assert '-h, --help' in proc.stdout, module


def _parser_of(monkeypatch, run):
    seen = []

    def capture(self, *args, **kwargs):
        seen.append(self)
        raise SystemExit(0)
    monkeypatch.setattr(argparse.ArgumentParser, 'parse_args', capture)
    with pytest.raises(SystemExit):
        run()
    return seen[0]


def test_fid_app_and_palette_parsers_document_every_flag(monkeypatch):
    from semsyn.app.__main__ import parse_args
    from semsyn.data.palette.__main__ import main as palette_main
    from semsyn.metrics.fid.__main__ import main as fid_main
    for run in (lambda: fid_main([]), lambda: parse_args([]), lambda: palette_main([])):
        parser = _parser_of(monkeypatch, run)
        assert not undocumented(parser), (parser.prog, undocumented(parser))


@pytest.mark.parametrize('is_train', [True, False])
def test_train_and_test_options_document_every_flag(is_train):
    parser = options.build_argparser(options.option_table(is_train), explicit_only=True, is_train=is_train)
    assert not undocumented(parser)
