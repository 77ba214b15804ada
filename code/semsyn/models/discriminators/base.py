"""What the model wrapper needs from a discriminator, declared by each class."""
from ..base import BaseNetwork
from ..dispatch import Dispatched


class Discriminator(Dispatched, BaseNetwork):
    """A discriminator keeps its original's forward and declares:

    - ``inputs(images, semantics)``: the arguments of its forward (tensors, as the original passes
      them) for a batch of images and their one-hot label maps; ``semantics`` may hold one map per
      group of images stacked along the batch (k*N images, N maps: fake and real share theirs);
    - ``predictions_and_features(out)``: its forward's return value -> (list of score maps, list of
      feature-matching groups); feature matching weighs each group lambda_feat / number of groups;
    - its own objective, where its original trains with one (else both return None and the
      wrapper's --gan_mode loss on [fake; real] with feature matching applies):
      ``generator_losses(d, fake, semantics, opt)`` -> {name: loss} of G's adversarial terms, and
      ``discriminator_losses(d, d_last, fake, real, semantics, opt, draws)`` -> {name: loss} of the
      D step; ``d`` runs the discriminator itself, ``d_last`` the (possibly DistributedDataParallel-
      wrapped) one that the step's last D call must use, ``draws`` the random source (models/draws.py);
    - ``score_channels(opt)``: channels of each score map (1: real/fake; OASIS: one per class + fake);
      ``feature_matching``: whether its outputs carry feature groups for matching.

    For the options (besides BaseNetwork's): ``MIN_CROP``, the smallest --crop_size it runs with.
    """

    MIN_CROP = None

    feature_matching = True

    @staticmethod
    def score_channels(opt):
        """Channels of each score map (1: real/fake)."""
        return 1

    def generator_losses(self, d, fake, semantics, opt):
        return None

    def discriminator_losses(self, d, d_last, fake, real, semantics, opt, draws):
        return None

    def inputs(self, images, semantics):
        raise NotImplementedError

    def predictions_and_features(self, out):
        raise NotImplementedError


def image_groups(images, semantics):
    """k for ``images`` [k*N, ...] and their label maps ``semantics`` [N, ...]."""
    times, rest = divmod(images.shape[0], semantics.shape[0])
    if rest:
        raise ValueError(f'{images.shape[0]} images but {semantics.shape[0]} label maps: expected a multiple')
    return times




def maps_per_image(images, semantics):
    """``semantics`` [N, ...] repeated to ``images``' batch k*N (the stacked groups share their maps)."""
    times = image_groups(images, semantics)
    return semantics.repeat(times, 1, 1, 1) if times > 1 else semantics
