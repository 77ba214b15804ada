"""python -m semsyn.app checkpoints/<name>  (or --name <name> [--checkpoints_dir DIR]): serve the painting
page of a trained or released model on this machine and print its URL."""
import argparse
import sys
from pathlib import Path

import torch

from ..errors import UserError, run_main
from ..synthesizer import Synthesizer
from .painting import PaintingApp
from .server import PaintingServer


def parse_args(argv):
    parser = argparse.ArgumentParser(prog='python -m semsyn.app',
                                     description='Serve a web page to paint label maps and synthesize their pictures.')
    parser.add_argument('folder', nargs='?', help='run folder with opt.yml (checkpoints/<name>); or use --name')
    parser.add_argument('--name', help='run name under --checkpoints_dir')
    parser.add_argument('--checkpoints_dir', default='./checkpoints',
                        help='folder of the runs (default: ./checkpoints)')
    parser.add_argument('--which_epoch', default='latest', help='epoch of the checkpoint to load')
    parser.add_argument('--no_ema', action='store_true', help='the trained generator, not its EMA (net_A)')
    parser.add_argument('--host', default='127.0.0.1',
                        help='address to serve on (0.0.0.0: reachable from other machines; the page has no login)')
    parser.add_argument('--port', type=int, default=7860, help='port (0: any free one)')
    parser.add_argument('--device', default='cpu', help='cpu, cuda or cuda:N')
    parser.add_argument('--class_names', help='text file with one class name per line, class 0 first')
    return parser.parse_args(argv)


def run_folder(args) -> Path:
    if bool(args.folder) == bool(args.name):
        raise UserError('give a run folder (python -m semsyn.app checkpoints/<name>) or --name <name>, one of them')
    folder = Path(args.folder) if args.folder else Path(args.checkpoints_dir) / args.name
    if not folder.is_dir():
        raise UserError(f'{folder}: no such folder (expected a run folder checkpoints/<name> with opt.yml)')
    return folder


def device_of(spec: str) -> torch.device:
    """--device as a torch.device; whether that GPU is there, Synthesizer.from_checkpoint checks."""
    try:
        return torch.device(spec)
    except RuntimeError:
        raise UserError(f'--device {spec}: expected cpu, cuda or cuda:N') from None


def main(argv=None):
    args = parse_args(argv)
    folder = run_folder(args)
    synthesizer = Synthesizer.from_checkpoint(folder, args.which_epoch, device_of(args.device), use_ema=not args.no_ema)
    server = PaintingServer(PaintingApp(synthesizer, folder.resolve().name, args.class_names), args.host, args.port)
    print(f'semsyn painting page of {folder}: {server.url}  (Ctrl+C stops it)', flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main))
