"""Networks: ``create_network(role, opt)`` builds a generator (G), discriminator (D) or encoder (E).

``opt`` is an options Namespace (from ``semsyn.options``) or a plain dict holding some option
names; the rest are taken from the defaults (dataset and network choices bring their own, as in
SPADE). Keys of a dict that are not options of this project (e.g. the originals' ``mpdist``) are
ignored; a ``semantic_nc`` that disagrees with the other options is an error. The style encoder
is the one the generator declares (``Generator.encoder``).
"""
import argparse
from typing import Union

import torch.nn as nn

from ..errors import UserError
from ..options import make_options, option_table
from .discriminators import DISCRIMINATORS
from .generators import GENERATORS


def options_from(opt: Union[argparse.Namespace, dict]) -> argparse.Namespace:
    if isinstance(opt, argparse.Namespace):
        return opt
    if not isinstance(opt, dict):
        raise TypeError(f'opt must be an argparse.Namespace or a dict, got {type(opt).__name__}')
    table = option_table(is_train=True)
    known = {k: v for k, v in opt.items() if k in table}
    ns = make_options(known, is_train=True)
    if 'semantic_nc' in opt and opt['semantic_nc'] != ns.semantic_nc:
        raise UserError(f"semantic_nc {opt['semantic_nc']} disagrees with label_nc/contain_dontcare_label/"
                        f'no_instance, which give {ns.semantic_nc}')
    return ns


def network_class(role: str, opt: argparse.Namespace) -> type:
    """The class of network `role` for the options (registries: GENERATORS, DISCRIMINATORS)."""
    if role in ('G', 'E'):
        if opt.netG not in GENERATORS:
            raise UserError(f"--netG {opt.netG}: unknown generator; choices: {', '.join(GENERATORS)}")
        return GENERATORS[opt.netG] if role == 'G' else GENERATORS[opt.netG].encoder
    if role == 'D':
        if opt.netD not in DISCRIMINATORS:
            raise UserError(f"--netD {opt.netD}: unknown discriminator; choices: {', '.join(DISCRIMINATORS)}")
        return DISCRIMINATORS[opt.netD]
    raise ValueError(f"role must be 'G', 'D' or 'E', got {role!r}")


def create_network(role: str, opt: Union[argparse.Namespace, dict], init: bool = True) -> nn.Module:
    """Build network `role` ('G', 'D' or 'E') for the options; weights initialised as the originals."""
    opt = options_from(opt)
    net = network_class(role, opt)(opt)
    if init:
        net.init_weights(opt.init_type, opt.init_variance)
    return net


__all__ = ['DISCRIMINATORS', 'GENERATORS', 'create_network', 'network_class', 'options_from']
