"""train.py and test.py keep freed host memory for reuse (semsyn/host_memory.py): a block freed by
one step serves the next step's allocation of the same size without touching fresh pages."""
import os
import subprocess
import sys
import textwrap

import pytest

CODE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'code')

# Fourteen "steps", each allocating three 64 MiB tensors and freeing them: the page faults of the last
# six steps, as a fraction of the pages they allocate.
SCRIPT = textwrap.dedent('''
    import resource, sys
    sys.path.insert(0, sys.argv[1])
    from semsyn.host_memory import keep_freed_memory
    applied = keep_freed_memory()
    import torch
    size = 64 * 2**20
    def step():
        x = torch.empty(size // 4).fill_(1.0)
        y = x + 1
        return float((y * 2)[-1])
    for _ in range(8):
        step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(6):
        step()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    print(applied, faults / (6 * 3 * size / resource.getpagesize()))
''')


def late_step_faults(keep):
    env = {**os.environ, 'SEMSYN_KEEP_FREED_MEMORY': '1' if keep else '0'}
    out = subprocess.run([sys.executable, '-c', SCRIPT, CODE], env=env, capture_output=True, text=True, check=True)
    applied, fraction = out.stdout.split()
    return applied == 'True', float(fraction)


def glibc():
    try:
        return (os.confstr('CS_GNU_LIBC_VERSION') or '').startswith('glibc')
    except (AttributeError, ValueError, OSError):
        return False


@pytest.mark.skipif(not glibc(), reason="mallopt's thresholds: glibc only")
def test_steps_reuse_freed_blocks_without_page_faults():
    applied, fraction = late_step_faults(keep=True)
    assert applied
    assert fraction < 0.2  # the earlier steps' freed blocks, still mapped (one stray block: 0.06)
    applied, fraction = late_step_faults(keep=False)  # SEMSYN_KEEP_FREED_MEMORY=0: glibc's defaults
    assert not applied
    assert fraction > 0.5  # fresh mmaps: their pages fault again
