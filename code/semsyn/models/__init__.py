"""Networks: ``create_network(role, opt)`` builds a generator (G), discriminator (D) or encoder (E).

``opt`` is an options Namespace (from ``semsyn.options``) or a plain dict holding some option
names; the rest are the defaults of the option table and those the chosen networks and dataset
bring (as in SPADE), without the command-line parser. Keys of a dict that are not options of this
project (e.g. the originals' ``mpdist``) are ignored; a ``semantic_nc`` that disagrees with the
other options (by the generator's rule) is an error. The style encoder is the one the generator
declares (``Generator.encoder``).
"""
import argparse
from typing import Union

import torch.nn as nn

from ..errors import UserError
from ..option_table import NORM_OPTIONS, Networks, derive, network_options
from .discriminators import DISCRIMINATORS
from .generators import GENERATORS

NETWORKS = Networks(GENERATORS, DISCRIMINATORS)


def options_from(opt: Union[argparse.Namespace, dict]) -> argparse.Namespace:
    if isinstance(opt, argparse.Namespace):
        stale = any(getattr(getattr(opt, spec, None), 'text', None) != getattr(opt, option, None)
                    for option, spec in NORM_OPTIONS.items())
        return derive(opt, NETWORKS) if stale else opt  # a norm string changed after the options were resolved
    if not isinstance(opt, dict):
        raise TypeError(f'opt must be an argparse.Namespace or a dict, got {type(opt).__name__}')
    ns = network_options(opt, NETWORKS)
    if 'semantic_nc' in opt and opt['semantic_nc'] != ns.semantic_nc:
        raise UserError(f"semantic_nc {opt['semantic_nc']} disagrees with label_nc/contain_dontcare_label/"
                        f'no_instance, which give {ns.semantic_nc} (--netG {ns.netG})')
    return ns


def network_class(role: str, opt: argparse.Namespace) -> type:
    """The class of network `role` for the options (registries: GENERATORS, DISCRIMINATORS)."""
    if role in ('G', 'E'):
        generator = NETWORKS.generator(opt.netG)
        return generator if role == 'G' else generator.encoder
    if role == 'D':
        return NETWORKS.discriminator(opt.netD)
    raise ValueError(f"role must be 'G', 'D' or 'E', got {role!r}")


def create_network(role: str, opt: Union[argparse.Namespace, dict], init: bool = True) -> nn.Module:
    """Build network `role` ('G', 'D' or 'E') for the options; weights initialised as the originals."""
    opt = options_from(opt)
    net = network_class(role, opt)(opt)
    if init:
        net.init_weights(opt.init_type, opt.init_variance)
    return net


__all__ = ['DISCRIMINATORS', 'GENERATORS', 'NETWORKS', 'create_network', 'network_class', 'options_from']
