"""Checking that label maps, photos and instance maps pair up one to one (SPADE's paths_match)."""
import os

from ..errors import UserError


def stem(path):
    """File name without folder and extension: SPADE pairs files whose stems are equal."""
    return os.path.splitext(os.path.basename(path))[0]


def check_pairs(labels, others, key, what, check_names=True):
    """UserError naming the first unpaired file when the sorted lists do not pair up.

    labels, others: sorted path lists; key: path -> pairing key; what: name of the other files
    ('image', 'instance map'). check_names=False (--no_pairing_check) checks only the counts.
    """
    if check_names:
        for a, b in zip(labels, others):
            if key(a) != key(b):
                raise _unpaired(a, b, labels, others, key, what)
    if len(labels) != len(others):
        n = min(len(labels), len(others))
        extra = labels[n] if len(labels) > n else others[n]
        raise UserError(f'found {len(labels)} label maps but {len(others)} {what}s; first unpaired file: {extra}')


def _unpaired(a, b, labels, others, key, what):
    hint = 'check the file names or pass --no_pairing_check'
    if key(a) not in {key(p) for p in others}:
        return UserError(f'label map {a} has no matching {what} (no {what} named {key(a)!r} next to '
                         f'{b}); {hint}')
    if key(b) not in {key(p) for p in labels}:
        return UserError(f'{what} {b} has no matching label map (no label map named {key(b)!r} next to '
                         f'{a}); {hint}')
    return UserError(f'label map {a} and {what} {b} do not pair up: the two folders sort in different '
                     f'orders; {hint}')
