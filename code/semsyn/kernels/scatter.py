"""Row gathers whose backward is a fixed scatter-add, done fast on the CPU.

The backward of ``table[index]`` adds gradient rows into ``table``'s rows. torch's CPU ``index_add_``
(and embedding_bag's backward) dispatch one small operation per index there, ~100x slower than the
gather itself; a sparse CSR matrix with one entry per index, multiplied with the gradient, does the
same sums in one multithreaded kernel. The matrix depends only on the index, so it is built once
(lazily, on the first backward) and shared by every gather with that index.

A tap table's bags (``blocks``: entry t of every bag in block t of the rows, LabelMap.taps) mostly
hold the same row of every block: a pixel whose window holds one label, 86-94% of an ADE20K map's
pixels at 128x128-256x256. Such a source goes into the matrix once, as a row of one extra block
whose sums are then added to every block: 4-6x fewer entries, and the product, which streams the
gradient once per entry, takes 0.3-0.4 of the time (CC-FPSE's 640-channel maps).
"""
import warnings

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable


def stable_argsort(keys):
    """torch's CPU sort is ~20x slower than numpy's radix sort for integer keys."""
    if keys.device.type == 'cpu':
        return torch.from_numpy(keys.numpy().argsort(kind='stable'))
    return torch.argsort(keys, stable=True)


class ScatterAdd:
    """``scatter(src)[r] = sum of src[i] over the i with index[i] == r`` for an index [M] or, for
    bags, [M, k] (row i of src goes to each of index[i, :]). Entries where ``keep`` is False are
    left out (the zero padding rows of a tap table, whose gradient nobody reads).

    ``blocks``: the index is [M, blocks] with entry t of every bag in rows t*R..(t+1)*R - 1, R =
    num_rows / blocks (a tap table); the CPU matrix then takes a source whose entries are one row
    r of every block (all kept) once, at row blocks*R + r, folded into all blocks after the product."""

    def __init__(self, index, num_rows, keep=None, blocks=None):
        if blocks is not None and (index.dim() != 2 or index.shape[1] != blocks or num_rows % blocks):
            raise ValueError(f'ScatterAdd: blocks={blocks} needs an index [M, {blocks}] and rows in {blocks} '
                             f'equal blocks, got index {tuple(index.shape)} and {num_rows} rows')
        self.index, self.num_rows, self.keep, self.blocks = index, num_rows, keep, blocks
        self.sources = index.shape[0]
        self._csr = {}
        self._images = {}

    def _entries(self):
        """(rows, cols) of the matrix's entries, and its number of rows (with the shared block)."""
        rows = self.index.reshape(-1)
        bag = rows.numel() // self.sources
        cols = torch.arange(self.sources, device=rows.device).repeat_interleave(bag)
        keep = None if self.keep is None else self.keep.reshape(-1)
        if self.blocks is None:
            return (rows, cols) if keep is None else (rows[keep], cols[keep]), self.num_rows
        per_block = self.num_rows // self.blocks
        first = self.index[:, :1]
        shared = (self.index - first == torch.arange(self.blocks, device=rows.device) * per_block).all(1)
        if self.keep is not None:
            shared &= self.keep.all(1)
        single = ~shared.repeat_interleave(bag)
        keep = single if keep is None else keep & single
        rows = torch.cat([first[shared, 0] + self.num_rows, rows[keep]])
        cols = torch.cat([torch.nonzero(shared)[:, 0], cols[keep]])
        return (rows, cols), self.num_rows + per_block

    def _matrix(self, dtype):
        if dtype not in self._csr:
            (rows, cols), num_rows = self._entries()
            order = stable_argsort(rows)
            counts = torch.bincount(rows, minlength=num_rows)
            crow = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
            with warnings.catch_warnings():  # "sparse CSR support is in beta"
                warnings.simplefilter('ignore')
                self._csr[dtype] = torch.sparse_csr_tensor(
                    crow, cols[order], torch.ones(len(rows), dtype=dtype, device=rows.device),
                    (num_rows, self.sources), check_invariants=False)
        return self._csr[dtype]

    def _folded(self, sums):
        """The [C, rows] product of the matrix (with the shared block) as [C, num_rows]: the shared
        block's sums added to every block."""
        if self.blocks is None:
            return sums
        c, per_block = sums.shape[0], self.num_rows // self.blocks
        out = sums[:, :self.num_rows]
        out.view(c, self.blocks, per_block).add_(sums[:, None, self.num_rows:])
        return out

    def __call__(self, src):
        if src.device.type != 'cpu':  # index_add_ is one fast kernel on GPUs
            bag = self.index.numel() // self.sources
            src = src.unsqueeze(1).expand(-1, bag, -1).reshape(-1, src.shape[1])
            if self.keep is not None:
                src = src * self.keep.reshape(-1, 1).to(src.dtype)
            return src.new_zeros(self.num_rows, src.shape[1]).index_add_(0, self.index.reshape(-1), src)
        dtype = torch.promote_types(src.dtype, torch.float32)  # no bf16/fp16 sparse kernels on the CPU
        if not src.is_contiguous() and src.t().is_contiguous():
            # the transpose of a contiguous [C, M] (the rows of a channels-first map at batch 1):
            # multiplied from that side, without the transposing copy (CC-FPSE's 640-channel 256x256
            # maps: 90-160 ms instead of 220-260 within a G step)
            return self._folded(self._times_transpose(src.t(), dtype)).t().to(src.dtype)
        sums = self._matrix(dtype) @ src.contiguous().to(dtype)
        return self._folded(sums.t()).t().to(src.dtype)

    def _times_transpose(self, columns, dtype):
        """[C, matrix rows]: ``columns`` [C, sources] (contiguous) times this scatter's matrix
        transposed (not folded)."""
        return torch.mm(columns.to(dtype), self._matrix(dtype).t())

    def _per_image(self, images):
        """This scatter cut into ``images`` scatters, one per equal run of sources (built once)."""
        if images == 1:
            return [self]
        if images not in self._images:
            per = self.sources // images
            self._images[images] = [ScatterAdd(self.index[i * per:(i + 1) * per], self.num_rows,
                                               None if self.keep is None else self.keep[i * per:(i + 1) * per],
                                               self.blocks)
                                    for i in range(images)]
        return self._images[images]

    def channels_first(self, grad):
        """The scatter of a channels-first map ``grad`` [N, C, H, W] whose pixels, image by image and
        row-major, are the sources: ``self(grad.permute(0, 2, 3, 1).reshape(-1, C))`` without that
        transposing copy (CC-FPSE's 640-channel 128x128 x8 maps: ~0.3 s of copy, as long as the sums).
        On the CPU the gradient of each image is a contiguous [C, H*W], multiplied from that side."""
        n, c = grad.shape[:2]
        if grad.device.type != 'cpu' or not grad.is_contiguous() or grad.numel() != c * self.sources:
            return self(grad.permute(0, 2, 3, 1).reshape(-1, c))
        dtype = torch.promote_types(grad.dtype, torch.float32)
        total = None
        for image, part in zip(grad.view(n, c, -1), self._per_image(n)):
            summed = part._times_transpose(image, dtype)
            total = summed if total is None else total.add_(summed)
        return self._folded(total).t().to(grad.dtype)


class _GatherBags(torch.autograd.Function):
    @staticmethod
    def forward(ctx, table, index, scatter, image_shape):
        ctx.scatter, ctx.channels_first = scatter, image_shape is not None
        rows = F.embedding_bag(index, table, mode='sum')
        if image_shape is None:
            return rows
        return rows.view(*image_shape, rows.shape[1]).permute(0, 3, 1, 2)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        summed = ctx.scatter.channels_first(grad) if ctx.channels_first else ctx.scatter(grad)
        return summed, None, None, None


def gather_bags(table, index, scatter, image_shape=None):
    """``table[index].sum(1)`` for a 2-D index [M, k] (embedding-bag sum), backward ``scatter``.
    With ``image_shape`` (N, H, W), N*H*W = M, the rows laid out as a channels-first map [N, C, H, W]
    (a view of the channels-last rows), whose gradient the backward takes as it comes."""
    return _GatherBags.apply(table, index, scatter, image_shape)
