"""The normalisation options --norm_G/--norm_D/--norm_E as the originals spell them, parsed once.

SPADE's names: an optional ``spectral`` prefix (spectral norm on the convolutions), then either a
plain norm after each convolution (``instance``, ``batch``, ``syncbatch``/``sync_batch``, ``none``
or nothing) or a conditional one, ``<kind><param-free norm><k>x<k>``: ``spade`` (SPADE) or
``scc`` (SCGAN's spatial conditional norm), e.g. ``spectralspadesyncbatch3x3``,
``spectralsccinstance3x3``, ``spectralinstance``, ``spectralsync_batch``.
"""
import re
from dataclasses import dataclass
from typing import Optional

from .errors import UserError

PARAM_FREE = ('instance', 'batch', 'syncbatch', 'sync_batch')
PLAIN = PARAM_FREE + ('none',)
CONDITIONAL = ('spade', 'scc')
BATCH = ('batch', 'syncbatch', 'sync_batch')
_CONDITIONAL = re.compile(r'(spade|scc)([a-z_]+?)(\d+)x(\d+)')


@dataclass(frozen=True)
class NormSpec:
    """One parsed norm option. ``kind``: a plain norm (PLAIN) or a conditional one (CONDITIONAL),
    whose ``param_free`` norm and ``kernel_size`` are given; ``text``: the option as written."""

    spectral: bool
    kind: str
    param_free: Optional[str] = None
    kernel_size: Optional[int] = None
    text: str = ''

    @property
    def conditional(self):
        return self.kind in CONDITIONAL

    @property
    def batch(self):
        """Whether the norm is a batch norm (its statistics need more than one value per channel)."""
        return (self.param_free if self.conditional else self.kind) in BATCH


def parse_norm(text, option='norm'):
    """'spectralspadesyncbatch3x3' -> NormSpec(True, 'spade', 'syncbatch', 3); a UserError naming
    ``option`` for a string of none of the forms."""
    spectral = text.startswith('spectral')
    rest = text[len('spectral'):] if spectral else text
    if rest in PLAIN or rest == '':
        return NormSpec(spectral, rest or 'none', text=text)
    parsed = _CONDITIONAL.fullmatch(rest)
    if parsed and parsed.group(2) in PARAM_FREE and parsed.group(3) == parsed.group(4):
        return NormSpec(spectral, parsed.group(1), parsed.group(2), int(parsed.group(3)), text=text)
    raise UserError(f"--{option} {text}: expected [spectral] followed by one of {', '.join(PLAIN)}, or by "
                    f"spade|scc, a param-free norm ({', '.join(PARAM_FREE)}) and a kernel size, e.g. "
                    'spectralspadesyncbatch3x3')
