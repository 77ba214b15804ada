"""The random draws the model wrapper makes for its networks and losses (a generator's noise z,
OASIS's LabelMix coins), from one replaceable source: by default torch's global generators; a
train-step replay substitutes the original's recorded draws (parity/replay.py)."""
import torch


class TorchDraws:
    def normal(self, shape, device):
        return torch.randn(*shape, device=device)

    def coin(self, device):
        """0 or 1, as a tensor of one element."""
        return torch.randint(0, 2, (1,), device=device)
