"""The pass rule of a train-step fixture (``shared/reference/train_fixtures/README.md``).

A fixture records one short training run of an original implementation; a result is the same run
done by another implementation, as a dict ``{'losses', 'grads': {'G', 'D'}, 'state_dict_final':
{'G', 'D'}, 'optimizers'}``. ``check_train_step(fixture, result)`` applies the rule:

1. optimizers: lr, betas, eps, weight_decay, amsgrad equal (relative 1e-9);
2. losses: same names per step; the first G step within 1e-5 x max(|ref|, 1), later steps within
   the fixture's ``loss/<step>`` tolerance;
3. first-step gradients: the same parameters have one; significant tensors (max |g| above 1e-6 x
   the net's max) within ``grad/<net>`` relative L2, the others within 1e-5 x the net's max;
4. final parameters: the updates (final - initial), over the entries with a significant first-step
   gradient, within ``param/<net>`` relative L2; every entry's update within 4 x lr x steps of the
   reference's; parameters without gradient unchanged;
5. final float buffers: relative L2 per net within ``buffer/<net>``;
6. where the fixture has an EMA generator (OASIS): its update (final - initial) over G's entries
   with a significant first-step gradient within ``param/EMA`` relative L2, its float buffers
   within ``buffer/EMA``.

Loss tolerances ``loss/<k>`` count the G and D entries of the schedule (EMA and visualisation
entries have no losses).

Tensors the fixture stores as samples (``{'offset', 'stride', 'values', ...}``) are compared at the
stored positions. The report keeps, per check, the worst deviation over its tolerance, so a
passing run also says how close it came.
"""
import math
from dataclasses import dataclass, field

import torch

NETS = ('G', 'D')


@dataclass
class ParityReport:
    """Failures (one line each) and, per check, the worst deviation / tolerance and where it was."""
    failures: list = field(default_factory=list)
    ratios: dict = field(default_factory=dict)
    worst_at: dict = field(default_factory=dict)
    by_tolerance: dict = field(default_factory=dict)  # worst ratio per tolerance name (loss/3, param/EMA, ...)

    @property
    def ok(self):
        return not self.failures

    def measure(self, check, deviation, tolerance, where):
        ratio = deviation / tolerance if tolerance > 0 else (0.0 if deviation == 0 else math.inf)
        key = where.split(' ')[0]
        self.by_tolerance[key] = max(self.by_tolerance.get(key, -1.0), ratio)
        if ratio > self.ratios.get(check, -1.0):
            self.ratios[check] = ratio
            self.worst_at[check] = f'{where}: deviation {deviation:.4g}, tolerance {tolerance:.4g}'
        if not deviation <= tolerance:  # also catches NaN
            self.failures.append(f'{check} {where}: deviation {deviation:.4g} > tolerance {tolerance:.4g}')

    def fail(self, message):
        self.failures.append(message)

    def summary(self):
        worst = ', '.join(f'{k} {v:.3g}' for k, v in sorted(self.ratios.items()))
        lines = [f'{"PASS" if self.ok else "FAIL"}: {worst}']
        lines += [f'  worst {k}: {self.worst_at[k]}' for k in sorted(self.worst_at)]
        lines += [f'  failure: {f}' for f in self.failures[:20]]
        return '\n'.join(lines)


def is_sampled(ref):
    return isinstance(ref, dict) and 'values' in ref


def at_reference_positions(tensor, ref):
    """``tensor`` flattened at the positions the fixture stored (all of it when stored whole)."""
    flat = tensor.detach().reshape(-1).to(torch.float64)
    if is_sampled(ref):
        return flat[ref['offset']::ref['stride']]
    return flat


def reference_values(ref):
    return (ref['values'] if is_sampled(ref) else ref).detach().reshape(-1).to(torch.float64)


def reference_max_abs(ref):
    if is_sampled(ref):
        return float(ref['max_abs'])
    return float(ref.detach().abs().max()) if ref.numel() else 0.0


def relative_l2(ours, ref):
    denom = float(ref.norm())
    diff = float((ours - ref).norm())
    return diff / denom if denom > 0 else (0.0 if diff == 0 else math.inf)


def _check_optimizers(fx, result, report):
    for net in NETS:
        ref, ours = fx['optimizers'][net], result['optimizers'].get(net)
        if ours is None:
            report.fail(f'optimizer {net}: none was built')
            continue
        if ours.get('type', 'Adam') != ref['type']:
            report.fail(f'optimizer {net}.type: ours {ours.get("type")}, original {ref["type"]}')
        for key in ('lr', 'betas', 'eps', 'weight_decay', 'amsgrad'):
            a = [float(v) for v in (ours[key] if isinstance(ours[key], (list, tuple)) else [ours[key]])]
            b = [float(v) for v in (ref[key] if isinstance(ref[key], (list, tuple)) else [ref[key]])]
            rtol = fx['pass_rule']['fixed']['hparam_rtol']
            if len(a) != len(b) or any(abs(x - y) > rtol * max(abs(y), 1e-30) for x, y in zip(a, b)):
                report.fail(f'optimizer {net}.{key}: ours {ours[key]}, original {ref[key]}')


def _check_losses(fx, result, report):
    rule = fx['pass_rule']
    ours_all = result['losses']
    if len(ours_all) != len(fx['losses']):
        report.fail(f'losses: {len(ours_all)} steps reported, the fixture has {len(fx["losses"])}')
        return
    first_g = next(i for i, s in enumerate(fx['schedule']) if s['step'] == 'G')
    k = -1
    for i, (ref, ours) in enumerate(zip(fx['losses'], ours_all)):
        step = fx['schedule'][i]
        if step['step'] not in NETS:
            if ours or ref:
                report.fail(f'schedule entry {i} ({step["step"]}): losses {sorted(ours)}, the original {sorted(ref)}')
            continue
        k += 1
        s = k
        if set(ours) != set(ref):
            report.fail(f'loss/{s}: names {sorted(ours)}, the original reports {sorted(ref)}')
            continue
        tol = rule['fixed']['loss/0'] if i == first_g else rule['tolerances'][f'loss/{s}']
        for name, value in ref.items():
            dev = abs(float(ours[name]) - value) / max(abs(value), 1.0)
            report.measure('loss', dev, tol, f'loss/{s} (iter {step["iteration"]} {step["step"]} {name}: ours '
                                            f'{float(ours[name]):.7g}, original {value:.7g})')


def _significant(refs, threshold):
    net_max = max((reference_max_abs(r) for r in refs.values()), default=0.0)
    return net_max, {k for k, r in refs.items() if reference_max_abs(r) > threshold * net_max}


def _check_grads(fx, result, report):
    rule = fx['pass_rule']
    for net in NETS:
        refs, ours = fx['grads'][net], result['grads'][net]
        if set(refs) != set(ours):
            extra, missing = sorted(set(ours) - set(refs)), sorted(set(refs) - set(ours))
            report.fail(f'grad/{net}: parameters with a gradient differ (only ours: {extra[:3]}, only the '
                        f'original: {missing[:3]})')
        net_max, significant = _significant(refs, rule['significant'])
        for name, ref in refs.items():
            if name not in ours:
                continue
            a, b = at_reference_positions(ours[name], ref), reference_values(ref)
            if name in significant:
                report.measure('grad', relative_l2(a, b), rule['tolerances'][f'grad/{net}'], f'grad/{net} {name}')
            else:
                dev = float((a - b).abs().max()) / net_max if net_max > 0 and a.numel() else 0.0
                report.measure('grad_noise', dev, rule['fixed']['grad_noise'], f'grad_noise/{net} {name}')


def _optimizer_steps(fx, net):
    return sum(1 for s in fx['schedule'] if s['step'] == net)


def _check_parameters(fx, result, report):
    rule = fx['pass_rule']
    for net in NETS:
        initial, final_ref = fx['state_dict_initial'][net], fx['state_dict_final'][net]
        final_ours, grads = result['state_dict_final'][net], fx['grads'][net]
        net_max, _ = _significant(grads, rule['significant'])
        # Adam moves an entry by about lr per step: updates are compared in units of lr x steps
        step_unit = fx['optimizers'][net]['lr'] * _optimizer_steps(fx, net)
        ours_parts, ref_parts = [], []
        for name, ref in final_ref.items():
            if name in fx['grads_none'][net]:
                a, b = at_reference_positions(final_ours[name], ref), reference_values(ref)
                dev = float(((a - b).abs() / b.abs().clamp(min=1.0)).max()) if a.numel() else 0.0
                report.measure('param_nograd', dev, rule['fixed']['param_nograd'], f'param_nograd/{net} {name}')
                continue
            if name not in grads:
                continue  # a buffer
            start = at_reference_positions(initial[name], ref)
            delta_ours = at_reference_positions(final_ours[name], ref) - start
            delta_ref = reference_values(ref) - start
            if delta_ours.numel() and step_unit > 0:
                report.measure('param_cap', float((delta_ours - delta_ref).abs().max()) / step_unit,
                               rule['fixed']['param_cap'], f'param_cap/{net} {name}')
            mask = reference_values(grads[name]).abs() > rule['significant'] * net_max
            ours_parts.append(delta_ours[mask])
            ref_parts.append(delta_ref[mask])
        if ref_parts:
            a, b = torch.cat(ours_parts), torch.cat(ref_parts)
            report.measure('param', relative_l2(a, b), rule['tolerances'][f'param/{net}'],
                           f'param/{net} ({b.numel()} entries)')


def _check_buffers(fx, result, report):
    rule = fx['pass_rule']
    for net in NETS:
        final_ref, final_ours = fx['state_dict_final'][net], result['state_dict_final'][net]
        ours_parts, ref_parts = [], []
        for name, ref in final_ref.items():
            if name in fx['grads'][net] or name in fx['grads_none'][net] or name.endswith('num_batches_tracked'):
                continue
            values = ref['values'] if is_sampled(ref) else ref
            if not values.is_floating_point():
                continue
            if name not in final_ours:
                report.fail(f'buffer/{net}: ours has no buffer {name}')
                continue
            ours_parts.append(at_reference_positions(final_ours[name], ref))
            ref_parts.append(reference_values(ref))
        if ref_parts:
            a, b = torch.cat(ours_parts), torch.cat(ref_parts)
            report.measure('buffer', relative_l2(a, b), rule['tolerances'][f'buffer/{net}'],
                           f'buffer/{net} ({b.numel()} entries)')


def _check_ema(fx, result, report):
    """The EMA generator's update over G's significant entries, and its float buffers."""
    if 'EMA' not in fx['state_dict_final']:
        return
    rule, ours_final = fx['pass_rule'], result['state_dict_final'].get('EMA')
    if ours_final is None:
        report.fail('EMA: the original keeps an EMA generator, ours has none')
        return
    initial, final_ref, grads = fx['state_dict_initial']['EMA'], fx['state_dict_final']['EMA'], fx['grads']['G']
    net_max, _ = _significant(grads, rule['significant'])
    d_ours, d_ref, b_ours, b_ref = [], [], [], []
    for name, ref in final_ref.items():
        if name in grads:
            start = at_reference_positions(initial[name], ref)
            mask = reference_values(grads[name]).abs() > rule['significant'] * net_max
            d_ours.append((at_reference_positions(ours_final[name], ref) - start)[mask])
            d_ref.append((reference_values(ref) - start)[mask])
            continue
        values = ref['values'] if is_sampled(ref) else ref
        if not name.endswith('num_batches_tracked') and values.is_floating_point():
            b_ours.append(at_reference_positions(ours_final[name], ref))
            b_ref.append(reference_values(ref))
    if d_ref:
        report.measure('ema_param', relative_l2(torch.cat(d_ours), torch.cat(d_ref)), rule['tolerances']['param/EMA'],
                       'param/EMA')
    if b_ref:
        report.measure('ema_buffer', relative_l2(torch.cat(b_ours), torch.cat(b_ref)),
                       rule['tolerances']['buffer/EMA'],
                       'buffer/EMA')


def check_train_step(fx, result):
    """Apply the fixture's pass rule to a result dict; returns a ParityReport."""
    report = ParityReport()
    _check_optimizers(fx, result, report)
    _check_losses(fx, result, report)
    _check_grads(fx, result, report)
    _check_parameters(fx, result, report)
    _check_buffers(fx, result, report)
    _check_ema(fx, result, report)
    return report
