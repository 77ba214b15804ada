"""bench/flops.py counts what the fast paths compute: in-place products (Winograd's weight-gradient
sums, which torch's counter leaves out) and sparse products on either side by their stored entries."""
import os
import sys
import warnings

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'bench'))
from flops import counter  # noqa: E402


def _count(fn):
    with warnings.catch_warnings():  # sparse CSR support is in beta
        warnings.simplefilter('ignore')
        with counter() as flops:
            fn()
    return flops.get_total_flops()


def test_in_place_products_count_as_their_out_of_place_forms():
    a, b = torch.randn(8, 5), torch.randn(5, 7)
    in_place = _count(lambda: torch.zeros(8, 7).addmm_(a, b))
    assert in_place == _count(lambda: torch.addmm(torch.zeros(8, 7), a, b)) == 2 * 8 * 5 * 7
    x, y = torch.randn(3, 4, 5), torch.randn(3, 5, 6)
    assert _count(lambda: torch.zeros(3, 4, 6).baddbmm_(x, y)) == _count(lambda: torch.bmm(x, y)) == 2 * 3 * 4 * 5 * 6


def test_sparse_products_count_their_stored_entries_on_either_side():
    dense = torch.randn(6, 5)
    sparse = torch.zeros(5, 5)
    sparse[0, 1] = sparse[2, 3] = sparse[4, 4] = 1
    csr = sparse.to_sparse_csr()
    assert _count(lambda: torch.mm(csr, dense.t())) == 2 * 3 * 6
    assert _count(lambda: torch.mm(dense, csr.t())) == 2 * 3 * 6
    assert _count(lambda: torch.mm(dense, sparse)) == 2 * 6 * 5 * 5  # dense stays dense
