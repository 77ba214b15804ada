"""Visual outputs: label colours, images, loss-curve SVGs and static HTML result pages."""
from .colormap import colorize_label, labelcolormap
from .html import HTMLPage
from .images import png_bytes, save_image, tensor2im
from .plots import loss_curves_svg

__all__ = ['HTMLPage', 'colorize_label', 'labelcolormap', 'loss_curves_svg', 'png_bytes', 'save_image', 'tensor2im']
