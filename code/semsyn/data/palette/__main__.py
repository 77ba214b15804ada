"""python -m semsyn.data.palette in.png out.png --palette NAME|FILE [--label_nc N] [--to_colour]

Turn a colour label map into the single-channel id map a dataset stores (or back, with --to_colour)."""
import argparse
import sys

from ...errors import run_main
from ...visual.images import save_image
from ..io import read_map
from . import BUILTIN, load_palette, read_colour_map, write_id_map


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m semsyn.data.palette',
                                     description='Turn a colour label map into the single-channel id map a '
                                                 'dataset stores (or back, with --to_colour).')
    parser.add_argument('input', help='the colour label map (with --to_colour: the id map)')
    parser.add_argument('output', help='where the id map (with --to_colour: the colour map) is written')
    parser.add_argument('--palette', required=True, help=f"{', '.join(BUILTIN)} or a palette file")
    parser.add_argument('--label_nc', type=int, help='number of classes (for --palette semsyn)')
    parser.add_argument('--to_colour', action='store_true', help='ids in, colours out')
    args = parser.parse_args(argv)
    palette = load_palette(args.palette, args.label_nc)
    if args.to_colour:
        save_image(palette.to_rgb(read_map(args.input, 'label map', 'ids')), args.output)
    else:
        write_id_map(args.output, read_colour_map(args.input, palette))
    print(f'{args.input} -> {args.output} ({palette.name} palette)')
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main))
