"""Base class of all networks: SPADE's weight initialisation."""
import torch.nn as nn
from torch.nn import init


class BaseNetwork(nn.Module):
    """A registered network declares its options here (how semsyn.option_table reads them):
    ``OPTIONS``/``TRAIN_OPTIONS`` (its own, in the option table's format, under the help group
    ``OPTION_GROUP``, a (title, description)), ``OPTION_DEFAULTS`` (the defaults it brings when
    chosen), ``ORIGINAL_FIXED`` (its original's option keys accepted at one value only), ``METHOD``
    (the method's name for --help) and ``check_options(opt)`` (its rules across options)."""

    METHOD = None
    OPTIONS = {}
    TRAIN_OPTIONS = {}
    OPTION_GROUP = None
    OPTION_DEFAULTS = {}
    ORIGINAL_FIXED = {}

    @classmethod
    def check_options(cls, opt):
        """Raise a UserError naming the option for a combination the network cannot build."""

    def init_weights(self, init_type='xavier', gain=0.02):
        def init_func(m):
            classname = m.__class__.__name__
            if 'BatchNorm2d' in classname:
                if getattr(m, 'weight', None) is not None:
                    init.normal_(m.weight.data, 1.0, gain)
                if getattr(m, 'bias', None) is not None:
                    init.constant_(m.bias.data, 0.0)
            elif hasattr(m, 'weight') and ('Conv' in classname or 'Linear' in classname):
                # with spectral norm, m.weight.data shares storage with weight_orig
                weight = m.weight.data
                if init_type == 'normal':
                    init.normal_(weight, 0.0, gain)
                elif init_type == 'xavier':
                    init.xavier_normal_(weight, gain=gain)
                elif init_type == 'xavier_uniform':
                    init.xavier_uniform_(weight, gain=1.0)
                elif init_type == 'kaiming':
                    init.kaiming_normal_(weight, a=0, mode='fan_in')
                elif init_type == 'orthogonal':
                    init.orthogonal_(weight, gain=gain)
                elif init_type == 'none':
                    m.reset_parameters()
                else:
                    raise ValueError(f'initialization method [{init_type}] is not implemented')
                if getattr(m, 'bias', None) is not None:
                    init.constant_(m.bias.data, 0.0)

        self.apply(init_func)
