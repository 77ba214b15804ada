"""What the model wrapper needs from a discriminator, declared by each class."""
from ..base import BaseNetwork


class Discriminator(BaseNetwork):
    """A discriminator keeps its original's forward and declares:

    - ``inputs(images, semantics)``: the arguments of its forward for a batch of images and their
      one-hot label maps;
    - ``predictions_and_features(out)``: its forward's return value -> (list of score maps, list of
      feature-matching groups); feature matching weighs each group lambda_feat / number of groups.
    """

    def inputs(self, images, semantics):
        raise NotImplementedError

    def predictions_and_features(self, out):
        raise NotImplementedError
