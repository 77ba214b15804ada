"""semsyn: semantic image synthesis (SPADE, CC-FPSE, SCGAN) in one PyTorch codebase.

``Synthesizer`` is the Python API: a trained model as a function, label map in, picture out. It is
imported on first use, so ``import semsyn`` stays light and ``python -m semsyn.<module>`` commands run
their module once."""

__all__ = ['Synthesizer']


def __getattr__(name):
    if name == 'Synthesizer':
        from .synthesizer import Synthesizer
        return Synthesizer
    raise AttributeError(f'module semsyn has no attribute {name!r}')
