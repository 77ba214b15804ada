"""The options of train.py, test.py and the library, resolved with the package's network registries
(``models.GENERATORS``, ``models.DISCRIMINATORS``): the networks declare their options, the
machinery in ``option_table`` merges them with the table (see its docstring for the precedence of
defaults, configs and flags).

``python -m semsyn.options FOLDER [test.py options]`` writes FOLDER/opt.yml for a released
checkpoint that came without one.
"""
import os
import sys

from . import option_table as _table
from .errors import UserError, run_main
from .models import DISCRIMINATORS, GENERATORS
from .norm_spec import NormSpec, parse_norm  # noqa: F401
from .option_table import (  # noqa: F401
    ALIASES,
    ANY,
    AT_LEAST_0,
    AT_LEAST_1,
    BASE_OPTIONS,
    DERIVED,
    INF,
    NORM_OPTIONS,
    OPTION_GROUPS,
    POSITIVE,
    RUN_OPTIONS,
    TEST_OPTIONS,
    TRAIN_OPTIONS,
    UNIT,
    UPSAMPLINGS,
    Networks,
    Range,
    batch_norm_batch,
    check_value,
    choices_of,
    dataset_defaults,
    load_saved_options,
    option_values,
    parse_bool,
    parse_gpu_ids,
    phase_defaults,
    range_of,
    ttur_defaults,
)

NETWORKS = Networks(GENERATORS, DISCRIMINATORS)
# the originals' keys accepted at one value, the networks' included (as the package registers them)
ORIGINAL_FIXED = NETWORKS.original_fixed()


def option_table(is_train):
    """name -> (type, default, help[, choices or Range]) of every option of the phase."""
    return _table.option_table(is_train, NETWORKS)


def check_original_fixed(key, value, source):
    _table.check_original_fixed(key, value, source, NETWORKS.original_fixed())


def check_mapping(values, table, source):
    return _table.check_mapping(values, table, source, NETWORKS.original_fixed())


def build_argparser(table, explicit_only, is_train=True):
    return _table.build_argparser(table, explicit_only, is_train, NETWORKS)


def resolve(cli=None, is_train=True, overrides=None):
    """Merge all option sources and derive values; returns an argparse.Namespace.

    cli: the command-line arguments (list of strings, default sys.argv[1:]).
    overrides: a dict of values applied like command-line flags (for library use and tests).
    """
    return _table.resolve(cli, is_train, overrides, NETWORKS)


def finalize(opt):
    """Derived values and the checks across options of a namespace whose options are merged."""
    return _table.finalize(opt, NETWORKS)


def make_options(values=None, is_train=True):
    """Options namespace from a dict of values (the rest from defaults), for library use and tests."""
    return resolve([], is_train=is_train, overrides=dict(values or {}))


def save_options(opt, folder=None):
    """Write opt.yml (machine-readable) and opt.txt (SPADE's human-readable listing)."""
    _table.save_options(opt, folder or os.path.join(opt.checkpoints_dir, opt.name), NETWORKS)


def write_options_main(argv=None):
    """python -m semsyn.options FOLDER [test.py options]: write FOLDER/opt.yml with those options, for a
    released checkpoint that came without one (the Python API and the painting page read it)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] in (['-h'], ['--help']):
        parser = build_argparser(option_table(False), explicit_only=True, is_train=False)
        parser.prog, parser.usage = 'python -m semsyn.options', '%(prog)s FOLDER [test.py options]'
        parser.description = ('Write FOLDER/opt.yml with these options, for a released checkpoint that came '
                              'without one (the Python API and the painting page read it).')
        parser.print_help()
        return 0
    if not argv or argv[0].startswith('-'):
        raise UserError('usage: python -m semsyn.options FOLDER [--dataset_mode ... and the other options the '
                        'checkpoint was trained with]')
    folder = os.path.abspath(argv[0])
    if not os.path.isdir(folder):
        raise UserError(f'{folder}: no such checkpoint folder')
    opt = resolve(['--checkpoints_dir', os.path.dirname(folder), '--name', os.path.basename(folder)] + argv[1:],
                  is_train=False)
    save_options(opt, folder)
    print(f'options written to {os.path.join(folder, "opt.yml")}')


__all__ = ['NETWORKS', 'NormSpec', 'build_argparser', 'check_mapping', 'check_original_fixed', 'finalize',
           'load_saved_options', 'make_options', 'option_table', 'resolve', 'save_options', 'write_options_main']

if __name__ == '__main__':
    run_main(write_options_main)
