"""OASIS's train-step replay: the original's recorded run (../shared/reference/oasis/train_fixtures)
replayed with semsyn's model wrapper, trainer and EMA, the original's noise and LabelMix coins
injected in its order, passes the fixture's rule: losses, first-step gradients, optimizers, final
G, D and EMA weights and buffers. The rule's EMA checks fail on a tampered result."""
import copy

import pytest
import torch

from semsyn.parity import check_train_step, run_train_fixture
from tests.conftest import REFERENCE, require

FIXTURES = REFERENCE / 'oasis' / 'train_fixtures'
CHECKS = {'loss', 'grad', 'param', 'param_cap', 'buffer', 'ema_param', 'ema_buffer'}


@pytest.fixture(scope='module')
def replayed():
    path = require(FIXTURES / 'train_oasis_ade20k.pt', 'OASIS train fixtures')
    torch.manual_seed(0)
    return run_train_fixture(path)


def test_replay_passes_the_rule(replayed):
    fx, result, report = replayed
    print(report.summary())
    print({k: round(v, 4) for k, v in sorted(report.by_tolerance.items())})
    assert report.ok, report.summary()
    assert CHECKS <= set(report.ratios), report.ratios
    # every EMA entry (four averages, two statistics passes) and loss step ran
    assert len(result['losses']) == len(fx['schedule'])


@pytest.mark.parametrize('tamper', ['ema_not_averaged', 'ema_statistics_not_recomputed'])
def test_rule_catches_a_wrong_ema(replayed, tamper):
    fx, result, _ = replayed
    result = copy.deepcopy(result)
    ema, initial = result['state_dict_final']['EMA'], fx['state_dict_initial']['EMA']
    for key in ema:
        is_param = key in fx['grads']['G']
        if (tamper == 'ema_not_averaged') == is_param and ema[key].is_floating_point():
            ema[key] = initial[key].clone() if is_param else result['state_dict_final']['G'][key].clone()
    report = check_train_step(fx, result)
    assert not report.ok
    assert any(f.startswith('ema_param' if tamper == 'ema_not_averaged' else 'ema_buffer') for f in report.failures)
