"""3x3 convolution (stride 1, padding 1) on the CPU by Winograd minimal filtering (Lavin & Gray 2015).

``winograd_conv3x3(x, weight, bias)`` gives F.conv2d(x, weight, bias, padding=1) (float rounding
apart) with F(4x4, 3x3): interpolation points 0, 1, -1, 2, -2 and infinity, 6x6 input tiles at
stride 4 give 4x4 outputs for 36 multiplications instead of 144. ``tile=2`` gives F(2x2, 3x3)
(4x4 tiles, 16 multiplications for 4 outputs), about as accurate as F.conv2d but slower; ``tile=3``
F(3x3, 3x3) (5x5 tiles, 25 multiplications for 9 outputs; points 0, 1, -1/2, -2 and infinity:
among the most accurate sets tried that include 1, which the bias needs, and B^T and A^T exact in
binary), in between.

    U = G g G^T        [36, C_out, C_in]   weight transform (one GEMM, K = 9)
    V = B^T d B        [36, C_in, P]       input transform of the P tiles (three skinny GEMMs)
    M = U V            [36, C_out, P]      36 GEMMs (one torch.bmm): nearly all of the arithmetic
    Y = A^T M A + bias [C_out * P, 16]     output transform (one GEMM, K = 36), then into NCHW

Layout and memory:

- The work goes in chunks of tile rows x output channels sized so that M stays under
  ``max_chunk_bytes`` (and at most 16 MiB); the buffers are allocated
  once per call and reused, as fresh pages cost about as much as the arithmetic around the GEMMs.
- Input transform without a 36-fold tile gather: the 6 input rows of each tile row are copied
  once ([6, C_in, rows, W'], contiguous rows, 1.5x the input), B^T is applied over them by one
  GEMM, then over the columns by two GEMMs reading the tile windows in place: tile k of a row
  starts at column 4k, so its first 4 columns are rows of a [tiles, 4] matrix of row stride 4 and
  its last 2 columns those of a [tiles, 2] matrix at offset 4 (a [tiles, 6] matrix of stride 4 is
  not a legal GEMM operand). Each row has one spare tile (it reads into the next row), so P
  counts tw + 1 tiles per tile row; the spare one is computed and never stored.
- The transforms are indexed (b, a) (column transform first) so that V[(b, a)] comes out of the
  column GEMM as a contiguous [C_in, P] matrix; U and A^T (x) A^T are permuted to match.
- The bias is added to M's slice (1, 1): column 1 of A^T is all ones (point 1), so it reaches all
  the tile's outputs.
- F(4x4): Y is computed as M^T (A^T (x) A^T)^T, [C_out * P, 16], so each tile's output row (4
  values) is adjacent in Y and in the output; the final rearrangement moves them as single 16-byte
  elements (a complex128 view) instead of 4 scalars. F(2x2) and F(3x3): as (A^T (x) A^T) M,
  [m*m, C_out * P], one plane per tile position, each copied into the output with stride m: for
  F(2x2), [C_out * P, 4] came from a GEMM with K = 16 and 4 columns that ran at a fifth of the
  wide one's speed (0.80-0.95 of the whole convolution's time, SCGAN's and CC-FPSE's training
  shapes, same values).

Accuracy (float32, random normal input, weight std 1/sqrt(9 C_in), bias, max abs error / max |output|
against float64): F(4x4) 4e-6 at C_in 64 on 32x32, 6e-6 at 128 and 8e-6 at 256 on 64x64; on the
large layers (256x256, 128x128, 64x64; C_in 64..256; C_out up to 4608) 0.9e-5 .. 1.5e-5 (worst:
215 -> 640 at 256x256). Nearly all of it is the float32 accumulation of M over C_in (it grows like
sqrt(C_in)), amplified by the output transform (A^T has entries up to 8); the transforms themselves
add <2e-6. F(3x3) 1.0e-6 .. 1.3e-6 (its gradients 1.0e-6 .. 1.8e-6), F(2x2) 4e-7 .. 7e-7, F.conv2d
2e-7 .. 4e-7. U is computed in the input dtype (its rounding is negligible here); all arithmetic
stays in that dtype.

``winograd_weight_grad3x3(grad_out, x)`` gives the weight gradient of that convolution from the same
input tiles V: dU = sum over tiles of (A dY A^T) V^T, dW = G^T dU G (F(2x2) by default: 4 products
per output pixel instead of the direct gradient's 9, float32 error as the direct sum's; F(3x3): 2.8).

No autograd: meant for no-grad code and for the inside of custom autograd Functions.
"""
import math

import torch

from ..paths import fast_paths_enabled

_BT = {
    4: [[4, 0, -5, 0, 1, 0],
        [0, -4, -4, 1, 1, 0],
        [0, 4, -4, -1, 1, 0],
        [0, -2, -1, 2, 1, 0],
        [0, 2, -1, -2, 1, 0],
        [0, 4, 0, -5, 0, 1]],
    3: [[-1, -3 / 2, 3 / 2, 1, 0],
        [0, 1, 5 / 2, 1, 0],
        [0, -2, 1, 1, 0],
        [0, -1 / 2, -1 / 2, 1, 0],
        [0, -1, -3 / 2, 3 / 2, 1]],
    2: [[1, 0, -1, 0],
        [0, 1, 1, 0],
        [0, -1, 1, 0],
        [0, 1, 0, -1]],
}
_G = {
    4: [[1 / 4, 0, 0],
        [-1 / 6, -1 / 6, -1 / 6],
        [-1 / 6, 1 / 6, -1 / 6],
        [1 / 24, 1 / 12, 1 / 6],
        [1 / 24, -1 / 12, 1 / 6],
        [0, 0, 1]],
    3: [[-1, 0, 0],
        [2 / 9, 2 / 9, 2 / 9],
        [8 / 9, -4 / 9, 2 / 9],
        [-1 / 9, 2 / 9, -4 / 9],
        [0, 0, 1]],
    2: [[1, 0, 0],
        [1 / 2, 1 / 2, 1 / 2],
        [1 / 2, -1 / 2, 1 / 2],
        [0, 0, 1]],
}
_AT = {
    4: [[1, 1, 1, 1, 1, 0],
        [0, 1, -1, 2, -2, 0],
        [0, 1, 1, 4, 4, 0],
        [0, 1, -1, 8, -8, 1]],
    3: [[1, 1, 1, 1, 0],
        [0, 1, -1 / 2, -2, 0],
        [0, 1, 1 / 4, 4, 1]],
    2: [[1, 1, 1, 0],
        [0, 1, -1, -1]],
}

_TARGET_BYTES = 16 * 2**20  # largest M chunk used even when max_chunk_bytes allows more
_MIN_TILES = 512            # tiles per chunk at least, where the budget allows (GEMM efficiency)
_WIDE = {16: torch.complex128, 8: torch.int64}  # plain moves of 16 and 8 bytes


def _kron(mat, dtype, device):
    """mat (x) mat, computed in float64: [(r1, r2), (c1, c2)] = mat[r1, c1] * mat[r2, c2]."""
    t = torch.tensor(mat, dtype=torch.float64)
    return torch.kron(t, t).to(dtype=dtype, device=device)


def _bounds(total, most):
    """[start, end) pieces of near-equal size, at most ``most`` each, covering range(total)."""
    pieces = -(-total // max(1, most))
    return [(total * i // pieces, total * (i + 1) // pieces) for i in range(pieces)]


def _plan(n, th, tw1, cout, elems):
    """(images per chunk, tile rows per chunk, channels per chunk) with tiles * channels <= elems
    where possible (never less than one tile row of one channel). Tile rows come in multiples
    making the GEMMs' tile count a multiple of 16 (GEMMs of such sizes run faster than odd counts)."""
    per_img = th * tw1
    if elems >= cout * per_img:                                     # whole images, all channels
        return _even(n, elems // (cout * per_img)), th, cout
    align = 16 // math.gcd(tw1, 16)
    rows = max(1, max(_MIN_TILES, elems // cout) // tw1)
    rows = min(th, max(align, rows - rows % align))
    cc = elems // (rows * tw1)
    if cc < 1:
        return 1, max(1, elems // tw1), 1
    return 1, rows, _even(cout, cc)


def _even(total, most):
    """The largest piece when ``total`` is cut into as few near-equal pieces of at most ``most``."""
    return -(-total // -(-total // max(1, most)))


def _fill_rows(d, x, r0, r1, h, w, m):
    """d [a, cin, nb, r1 - r0, W'] = the a padded input rows of tile rows r0..r1: d[k, .., t, 1 + j]
    = x[.., m*t + k - 1, j], zero outside the image (its padding columns too: d comes uninitialised)."""
    d[..., 0].zero_()
    d[..., w + 1:].zero_()
    for k in range(d.shape[0]):
        lo = max(r0, -(-(1 - k) // m))                              # first tile row with a real row k
        hi = min(r1, (h - k) // m + 1)                              # end of those
        dk = d[k, :, :, :, 1:w + 1]
        if hi > lo:
            y0 = m * lo + k - 1
            dk[:, :, lo - r0:hi - r0].copy_(x[:, :, y0:y0 + m * (hi - lo - 1) + 1:m].transpose(0, 1))
        dk[:, :, :max(0, lo - r0)].zero_()
        dk[:, :, max(0, hi - r0):].zero_()


def _tile_grid(x, m):
    """(tile rows, tiles per row with the spare one) of x [N, C, H, W] for F(m x m, 3x3)."""
    return -(-x.shape[2] // m), -(-x.shape[3] // m) + 1


def _blocks(n, th, nb, rc):
    """The (n0, n1, r0, r1) blocks of nb images x rc tile rows covering n images of th tile rows."""
    return [(n0, min(n, n0 + nb), r0, min(th, r0 + rc)) for n0 in range(0, n, nb) for r0 in range(0, th, rc)]


def _row_blocks(th, rows):
    """(images, tile rows) per block for at most ``rows`` tile rows a block: whole images where
    they fit, else part of one image."""
    return (max(1, rows // th), th) if rows >= th else (1, rows)


def _transform_buffers(x, m, tiles):
    """The work buffers (d, t, v) of _input_tiles for blocks of up to ``tiles`` tiles of x."""
    a, cin = m + 2, x.shape[1]
    return (x.new_empty(a * cin * tiles * m),
            x.new_empty(a * cin * tiles * m + m),  # + the spare tile's overrun
            x.new_empty(a * a * cin * tiles))


def _input_tiles(x, r0, r1, m, bt, bufs):
    """V = B^T d B of the tiles of tile rows r0..r1 of x (all its images), [a*a, C_in, P] indexed
    (b, a), P = images x rows x (tw + 1) tiles (the spare one included), in the work buffers
    ``bufs`` (d, t, v; sized for at least this block)."""
    dbuf, tbuf, vbuf = bufs
    nb, cin, h, w = x.shape
    a = m + 2
    tw1 = _tile_grid(x, m)[1]
    pc = nb * (r1 - r0) * tw1
    nr = a * cin * pc                                               # rows of the column GEMMs
    d = dbuf[:nr * m].view(a, cin, nb, r1 - r0, m * tw1)
    _fill_rows(d, x, r0, r1, h, w, m)
    torch.mm(bt, d.view(a, -1), out=tbuf[:nr * m].view(a, -1))
    tbuf[nr * m:nr * m + m].zero_()                                 # the last spare tile's overrun: finite
    v = vbuf[:a * a * cin * pc].view(a, nr)
    torch.mm(bt[:, :m], tbuf.as_strided((nr, m), (m, 1)).t(), out=v)
    v.addmm_(bt[:, m:], tbuf.as_strided((nr, 2), (m, 1), m).t())
    return v.view(a * a, cin, pc)


@torch.no_grad()
def input_tiles(x, tile=2, max_chunk_bytes=_TARGET_BYTES):
    """All of x's input tiles V = B^T d B, [a*a, C_in, P] with P = N x th x (tw + 1) (the spare
    tiles included), in a new tensor: for several convolutions of the same input
    (``tiles=`` of winograd_conv3x3 and winograd_weight_grad3x3), which then skip their own
    transform. Computed block of tile rows by block through the usual work buffers."""
    _check_tile(tile, 'input_tiles')
    n, cin = x.shape[:2]
    m = tile
    a = m + 2
    th, tw1 = _tile_grid(x, m)
    bt = torch.tensor(_BT[m], dtype=x.dtype, device=x.device)
    nb, rc = _row_blocks(th, max(1, max_chunk_bytes // (a * a * cin * tw1 * x.element_size())))
    bufs = _transform_buffers(x, m, nb * rc * tw1)
    tiles = x.new_empty((a * a, cin, n * th * tw1))
    for n0, n1, r0, r1 in _blocks(n, th, nb, rc):
        _block_of(tiles, x, n0, n1, r0, r1, m).copy_(_input_tiles(x[n0:n1], r0, r1, m, bt, bufs))
    return tiles


def _check_tile(tile, fn):
    if tile not in _BT:
        raise ValueError(f'{fn}: tile must be one of {sorted(_BT)}, got {tile}')


def _block_of(tiles, x, n0, n1, r0, r1, m):
    """The block (images n0..n1, tile rows r0..r1) of x's ``tiles`` (input_tiles' layout)."""
    th, tw1 = _tile_grid(x, m)
    p0 = (n0 * th + r0) * tw1
    return tiles[:, :, p0:p0 + (n1 - n0) * (r1 - r0) * tw1]


def _tiles_of(tiles, x, n0, n1, r0, r1, m, bt, bufs):
    """V of the block (images n0..n1, tile rows r0..r1): a slice of the given ``tiles``, or computed."""
    if tiles is None:
        return _input_tiles(x[n0:n1], r0, r1, m, bt, bufs)
    return _block_of(tiles, x, n0, n1, r0, r1, m)


def _check_tiles(tiles, x, m, fn):
    if tiles is not None:
        th, tw1 = _tile_grid(x, m)
        expected = ((m + 2) ** 2, x.shape[1], x.shape[0] * th * tw1)
        if tuple(tiles.shape) != expected:
            raise ValueError(f'{fn}: tiles must be input_tiles(x, tile={m}) of shape {expected}, '
                             f'got {tuple(tiles.shape)}')


@torch.no_grad()
def winograd_conv3x3(x, weight, bias=None, max_chunk_bytes=64 * 2**20, tile=4, out=None, tiles=None):
    """Same values as F.conv2d(x, weight, bias, padding=1) for x [N, C_in, H, W] (any H, W >= 1),
    weight [C_out, C_in, 3, 3]; float32 or float64; returns [N, C_out, H, W] contiguous (NCHW),
    written into ``out`` when given (a contiguous tensor of that shape and dtype).

    tile: 4 for F(4x4, 3x3) (default, fastest), 2 for F(2x2, 3x3) (more accurate). Each chunk's M
    ([36, channels, tiles]) is kept under max_chunk_bytes, down to one tile row of one channel.
    ``tiles``: ``input_tiles(x, tile)``
    when the caller has it (several convolutions of x), so x is not transformed again."""
    if weight.dim() != 4 or tuple(weight.shape[2:]) != (3, 3):
        raise ValueError(f'winograd_conv3x3: weight must be [C_out, C_in, 3, 3], got {tuple(weight.shape)}')
    if x.dim() != 4:
        raise ValueError(f'winograd_conv3x3: input must be [N, C_in, H, W], got {tuple(x.shape)}')
    if x.shape[1] != weight.shape[1]:
        raise ValueError(f'winograd_conv3x3: input {tuple(x.shape)} has C_in {x.shape[1]}'
                         f' but weight {tuple(weight.shape)} has C_in {weight.shape[1]}')
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(f'winograd_conv3x3: bias must be [C_out] = [{weight.shape[0]}], got {tuple(bias.shape)}')
    _check_tile(tile, 'winograd_conv3x3')
    if x.dtype not in (torch.float32, torch.float64):
        raise ValueError(f'winograd_conv3x3: float32 or float64 input expected, got {x.dtype}')
    _check_tiles(tiles, x, tile, 'winograd_conv3x3')
    n, cin, h, w = x.shape
    cout = weight.shape[0]
    m = tile
    a = m + 2
    a2 = a * a
    dt, dev = x.dtype, x.device
    th, tw1 = _tile_grid(x, m)                                      # tw1: with the spare tile
    tw = tw1 - 1

    bt = torch.tensor(_BT[m], dtype=dt, device=dev)
    # transforms indexed (b, a): b the column one, a the row one (the order V comes out in)
    akt = _kron(_AT[m], dt, dev).view(m * m, a, a).transpose(1, 2).reshape(m * m, a2).t()
    gk = _kron(_G[m], dt, dev).view(a, a, 9).transpose(0, 1).reshape(a2, 9)
    w9 = weight.to(dt).reshape(cout * cin, 9).t()
    b = None if bias is None else bias.to(dt)
    if out is None:
        out = x.new_empty(n, cout, h, w)
    elif out.shape != (n, cout, h, w) or out.dtype != dt or not out.is_contiguous():
        raise ValueError(f'winograd_conv3x3: out must be a contiguous {dt} tensor of shape {(n, cout, h, w)}, '
                         f'got {out.dtype} {tuple(out.shape)}')
    if out.numel() == 0:
        return out

    elems = min(max_chunk_bytes, _TARGET_BYTES) // (a2 * x.element_size())
    nb, rc, cc = _plan(n, th, tw1, cout, elems)
    pmax = nb * rc * tw1
    bufs = _transform_buffers(x, m, pmax) if tiles is None else None
    mbuf = x.new_empty(a2 * cc * pmax)
    ybuf = x.new_empty(m * m * cc * pmax)
    if n <= nb and rc >= th:
        # one pass over the tiles: each U chunk is used once, computed into a reused buffer
        # (the whole U, 36 x C_out x C_in, would cost about as much in fresh pages as the GEMM)
        u, ubuf = None, x.new_empty(a2 * cc * cin)
    else:
        u = torch.mm(gk, w9).view(a2, cout, cin)
    for n0, n1, r0, r1 in _blocks(n, th, nb, rc):
        pc = (n1 - n0) * (r1 - r0) * tw1
        v = _tiles_of(tiles, x, n0, n1, r0, r1, m, bt, bufs)
        for c0, c1 in _bounds(cout, cc):
            mc = mbuf[:a2 * (c1 - c0) * pc].view(a2, c1 - c0, pc)
            if u is None:
                uc = ubuf[:a2 * (c1 - c0) * cin].view(a2, c1 - c0, cin)
                torch.mm(gk, w9[:, c0 * cin:c1 * cin], out=uc.view(a2, -1))
            else:
                uc = u[:, c0:c1]
            torch.bmm(uc, v, out=mc)
            if b is not None:
                mc[a + 1].add_(b[c0:c1, None])                  # (b, a) = (1, 1)
            y = ybuf[:m * m * (c1 - c0) * pc]
            if m < 4:  # F(2x2)'s K = 16 GEMM with 4 columns ran at a fifth of the wide one's speed
                torch.mm(akt.t(), mc.view(a2, -1), out=y.view(m * m, -1))
                _scatter_planes(out[n0:n1, c0:c1], y.view(m, m, c1 - c0, n1 - n0, r1 - r0, tw1), r0, r1, h, w, m)
            else:
                torch.mm(mc.view(a2, -1).t(), akt, out=y.view(-1, m * m))
                y = y.view(c1 - c0, n1 - n0, r1 - r0, tw1, m, m)[:, :, :, :tw]
                _scatter(out[n0:n1, c0:c1], y, r0, r1, h, w, m)
    return out


@torch.no_grad()
def winograd_weight_grad3x3(grad_out, x, tile=2, max_chunk_bytes=_TARGET_BYTES, tiles=None):
    """The weight gradient [C_out, C_in, 3, 3] of F.conv2d(x, weight, padding=1) for ``grad_out``
    [N, C_out, H, W], by F(m x m, 3x3) Winograd (``tile`` m, 2 by default: as accurate as the direct
    sum). The forward's M = U V per tile position gives, for the tiles' output gradients dY:

        dM = A dY A^T        [a*a, C_out, P]   (one GEMM, K = m*m, over tile rows of dY)
        dU = sum_P dM V^T    [a*a, C_out, C_in] (a*a GEMMs with the P tiles as inner dimension)
        dW = G^T dU G        [C_out, C_in, 3, 3] (one GEMM, K = a*a)

    so the products are a*a / (m*m) per output pixel instead of 9: 4 with F(2x2), 2.8 with F(3x3). The
    spare and cropped tiles get dY = 0. Works by blocks of tile rows (and images) whose dM and V
    stay under ``max_chunk_bytes`` each. ``tiles``: ``input_tiles(x, tile)`` when
    the caller has it."""
    n, cin, h, w = x.shape
    cout = grad_out.shape[1]
    if grad_out.shape != (n, cout, h, w):
        raise ValueError(f'winograd_weight_grad3x3: grad_out {tuple(grad_out.shape)} does not match '
                         f'input {tuple(x.shape)}')
    _check_tile(tile, 'winograd_weight_grad3x3')
    _check_tiles(tiles, x, tile, 'winograd_weight_grad3x3')
    return _gradients(x, cout, _dense_filler(grad_out, h, w, tile), tiles, tile, max_chunk_bytes)[0]


@torch.no_grad()
def winograd_conv3x3_backward(x, weight, grad_out=None, fill_grad_out=None, tiles=None, grad_x=None,
                              weight_grad=True, bias_grad=False, tile=2, max_chunk_bytes=_TARGET_BYTES, group=None):
    """The gradients of Y = F.conv2d(x, weight, padding=1) from one Winograd transform of the output
    gradient per tile (F(m x m, 3x3), ``tile`` m, 2 by default: as accurate as the direct sums):

        dM = A dY A^T        [a*a, C_out, P]  (shared by both gradients)
        dU = sum_P dM V^T    -> dW = G^T dU G                   (``weight_grad``)
        dV = U^T dM          -> dX = B dV B^T, overlapping tiles summed, added into ``grad_x``
        db = sum_P dM[(1, 1)]                                   (``bias_grad``: A^T's column 1 is ones)

    This is the exact adjoint of winograd_conv3x3: the input gradient needs no transform of dY as
    an input of its own (the transposed convolution's), which is the larger one where C_out >> C_in
    (CC-FPSE's kernel predictors: 9 x C outputs from 128 hidden channels).

    The output gradient is ``grad_out`` [N, C_out, H, W], or written by ``fill_grad_out(dy, n0, n1,
    r0, r1, c0, c1)`` straight into the tile layout dy [m, m, c1 - c0, n1 - n0, r1 - r0, tw + 1] (the
    tiles of images n0..n1, tile rows r0..r1, output channels c0..c1; dy[i, j, .., r, k] the pixel
    (m r + i, m k + j), zero outside the image) for callers that compute it (the predicted kernels'
    gradient of ops/depthwise.py) and need it in no other layout. ``tiles``: ``input_tiles(x,
    tile)`` when the caller has it. ``grad_x``: [N, C_in, H, W] contiguous, the input gradient is
    added into it (None: not computed).

    ``group``: output channels per group (default: all), consecutive groups of that many (the last
    one the rest). Each block of tile rows takes the groups one after the other, dM one group's at
    a time (its size, and the blocks', set by the group's width), dV summed over the groups before
    its one transform back into ``grad_x``: the same as calling this per group of weight rows, with
    the input gradient's transform done once instead of once per group.

    Returns (weight gradient [C_out, C_in, 3, 3] or None, bias gradient [C_out] or None)."""
    n, cin, h, w = x.shape
    cout = weight.shape[0]
    if weight.shape != (cout, cin, 3, 3):
        raise ValueError(f'winograd_conv3x3_backward: weight must be [C_out, {cin}, 3, 3] for input '
                         f'{tuple(x.shape)}, got {tuple(weight.shape)}')
    if (grad_out is None) == (fill_grad_out is None):
        raise ValueError('winograd_conv3x3_backward: give exactly one of grad_out and fill_grad_out')
    if grad_out is not None and grad_out.shape != (n, cout, h, w):
        raise ValueError(f'winograd_conv3x3_backward: grad_out {tuple(grad_out.shape)} does not match '
                         f'{(n, cout, h, w)}')
    if grad_x is not None and (grad_x.shape != x.shape or not grad_x.is_contiguous()):
        raise ValueError(f'winograd_conv3x3_backward: grad_x must be contiguous of shape {tuple(x.shape)}')
    _check_tile(tile, 'winograd_conv3x3_backward')
    _check_tiles(tiles, x, tile, 'winograd_conv3x3_backward')
    if fill_grad_out is None:
        fill_grad_out = _dense_filler(grad_out, h, w, tile)
    if group is not None and group < 1:
        raise ValueError(f'winograd_conv3x3_backward: group must be a positive channel count, got {group}')
    return _gradients(x, cout, fill_grad_out, tiles, tile, max_chunk_bytes, weight=weight, grad_x=grad_x,
                      weight_grad=weight_grad, bias_grad=bias_grad, group=group)


def _dense_filler(grad_out, h, w, m):
    """A ``fill_grad_out`` that gathers the tiles' output gradient from ``grad_out`` [N, C_out, H, W]."""
    def fill(dy, n0, n1, r0, r1, c0, c1):
        _gather_tiles(dy, grad_out[n0:n1, c0:c1], r0, r1, h, w, m)
    return fill


def _gradients(x, cout, fill_grad_out, tiles, m, max_chunk_bytes, weight=None, grad_x=None, weight_grad=True,
               bias_grad=False, group=None):
    """The block loop of winograd_conv3x3_backward (see there; arguments checked by the callers):
    (weight gradient or None, bias gradient or None), the input gradient added into ``grad_x``."""
    n, cin, h, w = x.shape
    dt, dev = x.dtype, x.device
    a = m + 2
    a2 = a * a
    th, tw1 = _tile_grid(x, m)
    bt = torch.tensor(_BT[m], dtype=dt, device=dev)
    ak = _kron(_AT[m], dt, dev).view(m * m, a, a).transpose(1, 2).reshape(m * m, a2).t()  # [(b, a), (i, j)]
    gk = _kron(_G[m], dt, dev).view(a, a, 9).transpose(0, 1).reshape(a2, 9)              # [(b, a), (r, s)]
    du = x.new_zeros(a2, cout, cin) if weight_grad else None
    db = x.new_zeros(cout) if bias_grad else None
    u = torch.mm(gk, weight.to(dt).reshape(cout * cin, 9).t()).view(a2, cout, cin) if grad_x is not None else None
    gmax = min(cout, group or cout)                                 # the widest group: the first
    groups = [(c0, min(cout, c0 + gmax)) for c0 in range(0, cout, gmax)]
    per_row = a2 * max(cin, gmax) * tw1 * x.element_size()         # dM's or V's bytes per tile row
    nb, rc = _row_blocks(th, max(1, max_chunk_bytes // per_row))
    pmax = nb * rc * tw1
    bufs = _transform_buffers(x, m, pmax) if tiles is None and du is not None else None
    dybuf = x.new_empty(m * m * gmax * pmax)
    mbuf = x.new_empty(a2 * gmax * pmax)
    for n0, n1, r0, r1 in _blocks(n, th, nb, rc) if n * h * w else ():
        pc = (n1 - n0) * (r1 - r0) * tw1
        v = _tiles_of(tiles, x, n0, n1, r0, r1, m, bt, bufs) if du is not None else None
        dv = x.new_empty((a2, cin, pc)) if grad_x is not None else None
        for index, (c0, c1) in enumerate(groups):
            dy = dybuf[:m * m * (c1 - c0) * pc].view(m, m, c1 - c0, n1 - n0, r1 - r0, tw1)
            fill_grad_out(dy, n0, n1, r0, r1, c0, c1)
            dm = mbuf[:a2 * (c1 - c0) * pc].view(a2, c1 - c0, pc)
            torch.mm(ak, dy.view(m * m, -1), out=dm.view(a2, -1))
            if db is not None:
                db[c0:c1] += dm[a + 1].sum(1)                       # (b, a) = (1, 1)
            if du is not None:
                du[:, c0:c1].baddbmm_(dm, v.transpose(1, 2))
            if dv is not None:
                if index:
                    dv.baddbmm_(u[:, c0:c1].transpose(1, 2), dm)
                else:
                    torch.bmm(u[:, c0:c1].transpose(1, 2), dm, out=dv)
        if dv is not None:
            _add_input_grad(grad_x[n0:n1], dv, r0, r1, m, bt)
    gw = None
    if du is not None:
        gw = torch.mm(gk.t(), du.view(a2, -1)).view(9, cout, cin).permute(1, 2, 0).reshape(cout, cin, 3, 3)
    return gw, db


def _add_input_grad(grad_x, dv, r0, r1, m, bt):
    """grad_x [nb, C_in, H, W] += the adjoint of _input_tiles for the tiles' dV [(b, a), C_in, P]
    of tile rows r0..r1: over the columns (dT = sum_b B^T[b, l] dV[b], tile k's column l at m k + l,
    overlapping tiles summed), then over the rows (dd = B dT), each tile's row k - 1 + m t added
    into grad_x's."""
    nb, cin, h, w = grad_x.shape
    a = m + 2
    rows = r1 - r0
    tw1 = dv.shape[2] // (nb * rows)
    cols = grad_x.new_empty(dv.shape).view(a, a, cin, nb, rows, tw1)  # [l, a, ..]
    torch.mm(bt.t(), dv.view(a, -1), out=cols.view(a, -1))
    dt = grad_x.new_empty((a, cin, nb, rows, m * tw1 + a - m))
    for col in range(m):                   # the first m offsets cover each column once
        dt[..., col:col + m * tw1:m].copy_(cols[col])
    dt[..., m * tw1:].zero_()
    for col in range(m, a):
        dt[..., col:col + m * tw1:m].add_(cols[col])
    dd = grad_x.new_empty((a,) + dt.shape[1:])
    torch.mm(bt.t(), dt.view(a, -1), out=dd.view(a, -1))                          # [k, C_in, nb, rows, W'']
    for k in range(a):
        lo = max(r0, -(-(1 - k) // m))                              # first tile row with a real row k
        hi = min(r1, (h - k) // m + 1)                              # end of those
        if hi > lo:
            y0 = m * lo + k - 1
            grad_x[:, :, y0:y0 + m * (hi - lo - 1) + 1:m].add_(dd[k, :, :, lo - r0:hi - r0, 1:w + 1].transpose(0, 1))


def tile_planes(r0, r1, h, w, m):
    """For each tile position (i, j) of the tiles in tile rows r0..r1: (i, j, rows, cols, pixels), where
    the first ``rows`` of those tile rows and the first ``cols`` tiles of a row have the pixel (m*r + i,
    m*k + j) inside the image, and ``pixels`` indexes those pixels of an [.., H, W] map (rows at stride
    m from m*r0 + i, columns at stride m from j). Also for fill_grad_out callers (ops/depthwise.py)."""
    for i in range(m):
        rows = max(0, min(r1, (h - i + m - 1) // m) - r0)
        for j in range(m):
            cols = (w - j + m - 1) // m
            y0 = m * r0 + i
            yield i, j, rows, cols, (slice(y0, y0 + m * (rows - 1) + 1, m), slice(j, j + m * (cols - 1) + 1, m))


def _gather_tiles(dy, g, r0, r1, h, w, m):
    """dy [i, j, C, nb, r1 - r0, tw + 1] = g[nb, C, m*r + i, m*k + j] for tile rows r0..r1, zero
    outside the image (the cropped tiles' pixels and the spare tile)."""
    for i, j, rows, cols, (ys, xs) in tile_planes(r0, r1, h, w, m):
        dst = dy[i, j]
        if rows:
            dst[:, :, :rows, :cols].copy_(g[:, :, ys, xs].transpose(0, 1))
        dst[:, :, rows:].zero_()
        dst[:, :, :, cols:].zero_()


def _scatter_planes(out, y, r0, r1, h, w, m):
    """The inverse of _gather_tiles: out[nb, C, m*r + i, m*k + j] = y[i, j, C, nb, r - r0, k] for tile
    rows r0..r1, cropped at the bottom/right (the spare tile dropped)."""
    for i, j, rows, cols, (ys, xs) in tile_planes(r0, r1, h, w, m):
        if rows:
            out[:, :, ys, xs].copy_(y[i, j, :, :, :rows, :cols].transpose(0, 1))


def _parts(t0, t1, size, m):
    """Tiles [t0, t1) as (first, end, kept pixels): the full tiles, then the image's cropped last tile."""
    full_end = min(t1, size // m)
    parts = [(t0, full_end, m)] if full_end > t0 else []
    if t1 * m > size:
        parts.append((t1 - 1, t1, size - (t1 - 1) * m))
    return parts


def _scatter(out, y, r0, r1, h, w, m):
    """y [cc, nb, tile rows r0..r1, tw, i, j] into out [nb, cc, h, w], cropped at the bottom/right."""
    tw = y.shape[3]
    y = y.permute(1, 0, 2, 4, 3, 5)                                 # [nb, cc, rows, i, tw, j]
    es = y.element_size()
    mw, ww = m, w                                                   # a tile's width, the row's, in elements
    for nbytes, wide in _WIDE.items():
        if (m * es) % nbytes == 0 and (w * es) % nbytes == 0:
            out, y = out.view(wide), y.view(wide)
            mw, ww = m * es // nbytes, w * es // nbytes
            break
    for ty0, ty1, hr in _parts(r0, r1, h, m):
        for tx0, tx1, wc in _parts(0, tw, ww, mw):
            dst = out[:, :, ty0 * m:ty0 * m + (ty1 - ty0) * hr, tx0 * mw:tx0 * mw + (tx1 - tx0) * wc]
            dst = dst.unflatten(3, (tx1 - tx0, wc)).unflatten(2, (ty1 - ty0, hr))
            dst.copy_(y[:, :, ty0 - r0:ty1 - r0, :hr, tx0:tx1, :wc])


WINOGRAD_MIN_PIXELS = 64 * 64   # below this the tiles' bookkeeping outweighs the saved products
WINOGRAD_MIN_MACS = 128 * 128   # C_in x C_out per pixel and tap
# narrower layers pay too from these widths on; with fewer output channels the input transform,
# whose cost grows with C_in alone, is not shared by enough GEMM work
WINOGRAD_MIN_IN, WINOGRAD_MIN_OUT = 64, 96


def _cpu_float(x):
    """The fast paths, float32 or float64 on the CPU, outside autocast (where aten's convolution runs
    in autocast's dtype, as on the reference path)."""
    return (fast_paths_enabled(x) and x.device.type == 'cpu' and x.dtype in (torch.float32, torch.float64)
            and not torch.is_autocast_enabled('cpu'))


def _eligible(x, weight):
    """What both gates ask: _cpu_float, a 3x3 kernel of the input's dtype."""
    return _cpu_float(x) and weight.dtype == x.dtype and weight.shape[2:] == (3, 3)


def winograd_pays(x, weight):
    """Whether conv2d_same of ``x`` with ``weight`` runs as Winograd when no gradient is needed."""
    return (_eligible(x, weight) and x.shape[2] * x.shape[3] >= WINOGRAD_MIN_PIXELS
            and _wide_enough(*weight.shape[:2]))


# under training (F(2x2) forward and input gradient, GEMM weight gradient: conv3x3.py) Winograd
# beats aten's forward + backward from 256 output channels and 32x32 pixels per batch on
TRAIN_MIN_PIXELS, TRAIN_MIN_IN, TRAIN_MIN_OUT = 32 * 32, 64, 256


def winograd_trains(x, weight):
    """Whether conv2d_same of ``x`` with ``weight`` runs as Winograd when a gradient is needed."""
    return (_eligible(x, weight) and x.shape[0] * x.shape[2] * x.shape[3] >= TRAIN_MIN_PIXELS
            and weight.shape[1] >= TRAIN_MIN_IN and weight.shape[0] >= TRAIN_MIN_OUT)


# the weight gradient (winograd_weight_grad3x3, F(2x2)) beats conv3x3_weight_grad's GEMMs from 64 input
# channels on; below, the input transform is not shared by enough GEMM work
WEIGHT_GRAD_MIN_IN = 64


def winograd_weight_grad_pays(x):
    """Whether the 3x3 weight gradient for the input ``x`` runs as Winograd (conv3x3_weight_grad)."""
    return _cpu_float(x) and x.shape[1] >= WEIGHT_GRAD_MIN_IN


def _wide_enough(c_out, c_in):
    return c_out * c_in >= WINOGRAD_MIN_MACS or (c_in >= WINOGRAD_MIN_IN and c_out >= WINOGRAD_MIN_OUT)

