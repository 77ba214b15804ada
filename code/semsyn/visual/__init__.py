"""Visual outputs: label colours, images, loss-curve SVGs and static HTML result pages."""
from .colormap import colorize_label, label_from_semantics, labelcolormap
from .html import HTMLPage
from .images import image_grid, save_image, tensor2im
from .plots import loss_curves_svg

__all__ = ['labelcolormap', 'colorize_label', 'label_from_semantics',
           'tensor2im', 'save_image', 'image_grid', 'HTMLPage', 'loss_curves_svg']
