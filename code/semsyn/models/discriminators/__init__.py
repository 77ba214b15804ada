"""Discriminators; DISCRIMINATORS maps --netD to the class."""
from .multiscale import MultiscaleDiscriminator, NLayerDiscriminator

DISCRIMINATORS = {'multiscale': MultiscaleDiscriminator, 'n_layer': NLayerDiscriminator}
