"""Train-step parity with the original implementations: replay a fixture recorded from an original
trainer with semsyn's trainer and apply the fixture's pass rule."""
from .originals import effective_training, semsyn_options
from .replay import load_train_fixture, replay_train_fixture, run_train_fixture
from .rule import ParityReport, check_train_step

__all__ = ['ParityReport', 'check_train_step', 'effective_training', 'load_train_fixture', 'replay_train_fixture',
           'run_train_fixture', 'semsyn_options']
