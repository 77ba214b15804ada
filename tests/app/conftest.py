"""A tiny --use_vae model trained once for the app's tests, and the painting page served from a thread."""
import threading

import pytest

from semsyn import Synthesizer
from semsyn.app import PaintingApp, PaintingServer
from semsyn.options import resolve
from semsyn.training.loop import train


@pytest.fixture(scope='session')
def tiny_run(tmp_path_factory):
    """checkpoints/tiny: SPADE with a style encoder on the synthetic dataset, 64x64, one short epoch."""
    checkpoints = tmp_path_factory.mktemp('app_checkpoints')
    train(resolve(['--gpu_ids', '-1', '--dataset_mode', 'synthetic', '--synthetic_size', '4', '--crop_size', '64',
                   '--ngf', '4', '--ndf', '8', '--no_vgg_loss', '--batchSize', '2', '--niter', '1',
                   '--checkpoints_dir', str(checkpoints), '--name', 'tiny', '--use_vae',
                   '--init_variance', '1']))  # default init: two steps leave every picture grey
    return checkpoints / 'tiny'


@pytest.fixture(scope='session')
def tiny_synthesizer(tiny_run):
    return Synthesizer.from_checkpoint(tiny_run)


def serve(app):
    server = PaintingServer(app, '127.0.0.1', 0)  # port 0: a free one
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


def stop(server, thread):
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture(scope='module')
def served(tiny_synthesizer):
    """The painting page of the tiny model on 127.0.0.1; its URL is server.url."""
    server, thread = serve(PaintingApp(tiny_synthesizer, 'tiny'))
    yield server
    stop(server, thread)
