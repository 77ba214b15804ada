"""Discriminators; DISCRIMINATORS maps --netD to the class."""
from .fpse import FPSEDiscriminator
from .multiscale import MultiscaleDiscriminator, NLayerDiscriminator
from .oasis import OASISDiscriminator

DISCRIMINATORS = {'multiscale': MultiscaleDiscriminator, 'n_layer': NLayerDiscriminator, 'fpse': FPSEDiscriminator,
                  'oasis': OASISDiscriminator}
