"""Base class of all networks: SPADE's weight initialisation."""
import torch.nn as nn
from torch.nn import init


class BaseNetwork(nn.Module):
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
