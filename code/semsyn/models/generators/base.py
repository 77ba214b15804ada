"""What the model wrapper needs from a generator, declared by each method's class, so the wrapper
names no method and a new one is its files plus an entry in ``GENERATORS``."""
from ..base import BaseNetwork
from ..ema import EMARule
from ..encoder import ConvEncoder


class Generator(BaseNetwork):
    """A generator keeps its original's ``forward(semantics, z=None)`` (return value included, so
    reference fixtures and released checkpoints compare directly) and declares:

    - ``encoder``: the style-encoder class it pairs with under --use_vae;
    - ``image_and_extras(out)``: its forward's return value -> (image in [-1, 1], dict of the
      method's other outputs);
    - ``extra_losses(extras, real_image, opt, vgg)``: losses it adds to G's objective, by name;
    - ``vgg_switch(opt)``: when those losses use the VGG network (built once for the run), the option
      that turns that use off (named when the VGG weights are missing); else None;
    - ``noise_shape(semantics)``: the shape of the noise z its forward draws when given none
      (the wrapper then draws it from its draw source, so a replay can inject the original's
      draws); None when it draws none;
    - ``ema_rule``: how its original keeps the generator EMA (models/ema.py).
    """

    encoder = ConvEncoder
    ema_rule = EMARule()

    def noise_shape(self, semantics):
        return None

    @staticmethod
    def image_and_extras(out):
        return out, {}

    @staticmethod
    def extra_losses(extras, real_image, opt, vgg):
        return {}

    @staticmethod
    def vgg_switch(opt):
        return None
