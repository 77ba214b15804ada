"""The training state keeps what an exact resume needs: with beta1 = 0 (TTUR's default) Adam's first
moment is the last gradient, overwritten unread by the next step, so it is left out of the file."""
import pytest
import torch

from semsyn.training.trainer import load_optimizer_state, optimizer_state


def run(params, optimizer, grads):
    for g in grads:
        for p in params:
            p.grad = g.clone()
        optimizer.step()


@pytest.mark.parametrize('beta1', [0.0, 0.5])
def test_optimizer_state_resumes_exactly(beta1):
    torch.manual_seed(0)
    grads = [torch.randn(300) * 10 ** k for k in range(6)]
    straight = torch.nn.Parameter(torch.randn(300))
    start = straight.detach().clone()
    opt = torch.optim.Adam([straight], lr=1e-3, betas=(beta1, 0.9))
    run([straight], opt, grads)

    first = torch.nn.Parameter(start.clone())
    opt1 = torch.optim.Adam([first], lr=1e-3, betas=(beta1, 0.9))
    run([first], opt1, grads[:3])
    saved = optimizer_state(opt1)
    assert ('exp_avg' in saved['state'][0]) == (beta1 != 0)
    resumed = torch.nn.Parameter(first.detach().clone())
    opt2 = torch.optim.Adam([resumed], lr=1e-3, betas=(beta1, 0.9))
    load_optimizer_state(opt2, saved)
    run([resumed], opt2, grads[3:])
    assert torch.equal(resumed, straight)
