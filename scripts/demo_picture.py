"""The README's demo picture from a test.py result folder: one column per sample, rows label map /
synthesized / real, upscaled without smoothing so the textures stay visible.

    python scripts/demo_picture.py results/demo/test_latest media/demo.png [--samples 6] [--scale 2]
"""
import argparse
import sys
from pathlib import Path

from PIL import Image, ImageDraw

ROWS = (('input_label', 'label map'), ('synthesized_image', 'synthesized'), ('real_image', 'real'))
MARGIN, CAPTION_WIDTH = 6, 92


def sample_names(images: Path, count: int):
    names = sorted(p.stem for p in (images / 'synthesized_image').glob('*.png'))
    if not names:
        sys.exit(f'{images}/synthesized_image: no images (run test.py first)')
    return names[:count]


def compose(result_dir: Path, count: int, scale: int) -> Image.Image:
    images = result_dir / 'images'
    rows = [(folder, caption) for folder, caption in ROWS if (images / folder).is_dir()]
    names = sample_names(images, count)
    with Image.open(images / 'synthesized_image' / f'{names[0]}.png') as first:
        w, h = first.width * scale, first.height * scale
    sheet = Image.new('RGB', (CAPTION_WIDTH + len(names) * (w + MARGIN) + MARGIN, len(rows) * (h + MARGIN) + MARGIN),
                      'white')
    draw = ImageDraw.Draw(sheet)
    for r, (folder, caption) in enumerate(rows):
        top = MARGIN + r * (h + MARGIN)
        draw.text((MARGIN, top + h // 2 - 6), caption, fill='black')
        for c, name in enumerate(names):
            with Image.open(images / folder / f'{name}.png') as tile:
                sheet.paste(tile.convert('RGB').resize((w, h), Image.NEAREST),
                            (CAPTION_WIDTH + MARGIN + c * (w + MARGIN), top))
    return sheet


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('result_dir', type=Path, help='results/<name>/test_<epoch> of test.py')
    parser.add_argument('output', type=Path, help='PNG to write')
    parser.add_argument('--samples', type=int, default=6)
    parser.add_argument('--scale', type=int, default=2)
    args = parser.parse_args(argv)
    if not (args.result_dir / 'images').is_dir():
        sys.exit(f'{args.result_dir}: not a test.py result folder (no images/ inside)')
    args.output.parent.mkdir(parents=True, exist_ok=True)
    compose(args.result_dir, args.samples, args.scale).save(args.output)
    print(f'demo picture: {args.output}')


if __name__ == '__main__':
    main()
