"""What the model wrapper needs from a generator, declared by each method's class, so the wrapper
names no method and a new one is its files plus an entry in ``GENERATORS``."""
from ...option_table import spade_semantic_nc
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

    and, for the options (besides BaseNetwork's): ``UPSAMPLING``, the --num_upsampling_layers modes it
    supports (None: it has no latent size), ``TTUR_FIXED_BETAS`` (its original trainer uses Adam
    betas (0, 0.9) under TTUR, whatever --beta1/--beta2 say) and ``semantic_nc(opt)``, the channels
    of its label input (SPADE's count by default).
    """

    encoder = ConvEncoder
    UPSAMPLING = None
    TTUR_FIXED_BETAS = False
    semantic_nc = staticmethod(spade_semantic_nc)
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
