"""pytorch-fid's Inception network with a weights file the user has, and its 2048-d pool features.

pytorch-fid builds the network with its own constructor and reads the weights from the torch hub
cache (``$TORCH_HOME/hub/checkpoints``). A file elsewhere (``--fid_weights``) is handed over
through a temporary hub cache (``weights.hub_cache_holding``), read weights-only."""
import os

import torch
from pytorch_fid.inception import InceptionV3

from ...errors import UserError
from ...fileio import describe_unreadable
from ...weights import hub_cache_holding, locate_weights

FID_WEIGHTS_URL = ('https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/'
                   'pt_inception-2015-12-05-6726825d.pth')
FEATURE_DIMS = 2048
INCEPTION_SIZE = 299


def locate_fid_weights(weights_path=None, fallback_hint=''):
    """The weights file (--fid_weights PATH, or the torch hub cache), with a clear error when neither has it."""
    return locate_weights(FID_WEIGHTS_URL, weights_path, 'FID Inception weights', '--fid_weights', fallback_hint)


def build_inception(path):
    """pytorch-fid's InceptionV3 (pool3, 2048-d; resize to 299 bilinear, scale to [-1, 1]) with the
    weights file at path, built by pytorch-fid's own constructor."""
    with hub_cache_holding(path, os.path.basename(FID_WEIGHTS_URL)):
        try:
            model = InceptionV3([InceptionV3.BLOCK_INDEX_BY_DIM[FEATURE_DIMS]])
        except RuntimeError as exc:  # load_state_dict: keys or shapes
            raise UserError(f"FID Inception weights {path} do not fit pytorch-fid's network "
                            f'({str(exc).splitlines()[0]})') from None
        except Exception as exc:  # refused by the weights-only reader
            raise UserError(f'FID Inception weights {path} {describe_unreadable(path, exc)}') from None
    return model.eval()


def weights_identity(path):
    """Names a weights file by its path, size and time (part of the statistics cache key)."""
    st = os.stat(path)
    return f'{os.path.abspath(path)}:{st.st_size}:{st.st_mtime_ns}'


class FeatureExtractor:
    """2048-d Inception pool features of image batches; DataParallel over several GPUs."""

    def __init__(self, weights_path=None, device=torch.device('cpu'), gpu_ids=(), fallback_hint=''):
        self.device = device
        path = locate_fid_weights(weights_path, fallback_hint)
        model = build_inception(path).to(device)
        self.model = torch.nn.DataParallel(model, device_ids=list(gpu_ids)) if len(gpu_ids) > 1 else model
        self.weights_id = weights_identity(path)

    @torch.no_grad()
    def __call__(self, images):
        """images: float [B, 3, H, W] in [0, 1] -> float64 numpy [B, 2048]."""
        feats = self.model(images.to(self.device, torch.float32))[0]
        return feats.squeeze(3).squeeze(2).double().cpu().numpy()

    @torch.no_grad()
    def from_prepared(self, inputs):
        """inputs: float [B, 3, 299, 299] in [-1, 1] (preparation.prepare) -> float64 numpy [B, 2048]:
        the same network with its own resize and scaling switched off."""
        net = self.model.module if isinstance(self.model, torch.nn.DataParallel) else self.model
        resize, scale = net.resize_input, net.normalize_input
        net.resize_input = net.normalize_input = False
        try:
            feats = self.model(inputs.to(self.device, torch.float32))[0]
        finally:
            net.resize_input, net.normalize_input = resize, scale
        return feats.squeeze(3).squeeze(2).double().cpu().numpy()


def quantize(images):
    """Generator output in [-1, 1] -> [0, 1] as the saved 8-bit images are (SPADE's tensor2im)."""
    return ((images.detach().float() + 1) / 2 * 255).clamp(0, 255).floor() / 255
