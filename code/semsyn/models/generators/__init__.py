"""Generators, one file per method; GENERATORS maps --netG to the class."""
from .ccfpse import CondConvGenerator
from .oasis import OASISGenerator
from .pix2pixhd import Pix2PixHDGenerator
from .scgan import SCGGenerator
from .spade import SPADEGenerator

GENERATORS = {'spade': SPADEGenerator, 'pix2pixhd': Pix2PixHDGenerator, 'condconv': CondConvGenerator,
              'scg': SCGGenerator, 'oasis': OASISGenerator}
