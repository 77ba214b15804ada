"""--compile: torch.compile of G, D and E in place, so checkpoints keep their names; GPU runs only
(the compiled training step itself is measured on a GPU: bench/RESULTS.md)."""
import pytest

from semsyn.errors import UserError
from semsyn.models.synthesis import SynthesisModel
from semsyn.options import make_options, resolve


def test_compile_networks_keeps_every_name_and_leaves_the_ema_copy_eager():
    opt = make_options(dict(dataset_mode='synthetic', label_nc=4, ngf=4, ndf=8, no_vgg_loss=True, gpu_ids='-1',
                            batchSize=2, crop_size=32, use_vae=True, ema=True))
    model = SynthesisModel(opt)
    before = {k: v.shape for k, v in model.state_dict().items()}
    model.compile_networks()  # lazy: nothing is compiled before a forward
    assert {k: v.shape for k, v in model.state_dict().items()} == before
    compiled = {role: net._compiled_call_impl is not None for role, net in model.networks().items()}
    assert compiled == {'G': True, 'D': True, 'E': True, 'A': False}


def test_compile_asks_for_a_gpu_and_for_torchrun_over_several():
    with pytest.raises(UserError, match='--compile needs a GPU'):
        resolve(['--gpu_ids', '-1', '--compile', '--dataset_mode', 'synthetic'], is_train=True)
    # (the GPUs named are checked against the machine later, at start-up)
    with pytest.raises(UserError, match='use torchrun --nproc_per_node 2 train.py --compile'):
        resolve(['--gpu_ids', '0,1', '--compile', '--dataset_mode', 'synthetic'], is_train=True)
    assert resolve(['--gpu_ids', '0', '--compile', '--dataset_mode', 'synthetic'], is_train=True).compile
