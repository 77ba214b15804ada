"""SPADE's norm (models/ops/normalization.py) on the CPU: gamma and beta as one convolution, and on a
one-hot map the shared convolution as label lookups (kernels/spade_fast.py); the modulation written
over beta's half of that one map (kernels/modulation.py). Applies where the kernels run on x's device."""
from ..models.dispatch import register
from ..models.ops.normalization import SPADE
from ..paths import fast_paths_enabled
from .label_map import context_labels
from .modulation import modulate
from .resize import nearest_resize
from .spade_fast import label_modulation, modulation_from_hidden


def applies(spade, context, x, semantics):
    return fast_paths_enabled(x)


def run(spade, context, x, semantics):
    normalized = spade.param_free_norm(x)
    labels = context_labels(context, semantics)
    if labels is not None:
        params = label_modulation(spade, labels.at(x.shape[2:]))
    else:
        params = modulation_from_hidden(spade, spade.mlp_shared(nearest_resize(semantics, x.size()[2:])))
    return modulate(normalized, params)


def modulate_hidden(spade, x, actv):
    """``spade.modulate(x, actv)`` (the norm from mlp_shared's output ``actv``) by the same route:
    gamma and beta as one convolution, the modulation over beta's half; ``spade.modulate`` itself
    where the kernels do not run on x's device."""
    if not fast_paths_enabled(x):
        return spade.modulate(x, actv)
    return modulate(spade.param_free_norm(x), modulation_from_hidden(spade, actv))


register(SPADE, applies, run)
