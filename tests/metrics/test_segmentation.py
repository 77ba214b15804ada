"""Label fidelity: the confusion-matrix mIoU, and the built-in segmenter of the synthetic dataset,
which must tell classes apart by texture as well as by colour."""
import numpy as np
import pytest
import torch

from semsyn.data import create_dataset
from semsyn.data.synthetic import TEXTURE_AMPLITUDE, class_styles, texture
from semsyn.metrics import segmenters
from semsyn.metrics.segmentation import ConfusionMatrix, SegmentationEvaluator
from semsyn.options import make_options


def test_miou_is_accumulated_over_the_set_and_ignores_dontcare():
    cm = ConfusionMatrix(3, ignore_index=2)
    # image 1: class 0 everywhere, predicted right on 3 of 4 pixels (one as class 1)
    cm.update(torch.tensor([[0, 0], [0, 1]]), torch.tensor([[0, 0], [0, 0]]))
    # image 2: class 1 on 2 pixels, both right; dontcare pixels predicted anything
    cm.update(torch.tensor([[1, 1], [0, 0]]), torch.tensor([[1, 1], [2, 2]]))
    result = cm.result(['a', 'b', 'dontcare'])
    # over the set: a has 4 label pixels, 3 predicted a (all right): IoU 3 / (4 + 3 - 3) = 0.75;
    # b has 2 label pixels, 3 predicted b (2 right): IoU 2 / (2 + 3 - 2) = 2/3 (image 2 alone gives b 1.0)
    assert result['per_class_iou']['a'] == pytest.approx(0.75)
    assert result['per_class_iou']['b'] == pytest.approx(2 / 3)
    assert result['per_class_iou']['dontcare'] is None  # ignored: no IoU, not in the mean
    assert result['miou'] == pytest.approx((0.75 + 2 / 3) / 2)
    assert result['pixel_accuracy'] == pytest.approx(5 / 6) and result['num_pixels'] == 6


@pytest.fixture(scope='module')
def segmenter(tmp_path_factory):
    """The built-in synthetic segmenter, trained once into a temporary cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv('XDG_CACHE_HOME', str(tmp_path_factory.mktemp('cache')))
        opt = make_options({'dataset_mode': 'synthetic', 'gpu_ids': '-1'}, is_train=False)
        seg = segmenters.build_segmenter(opt, torch.device('cpu'))
        # built again: read from the cache, not trained again
        mp.setattr(segmenters.synthetic, 'train_segmenter', lambda *a, **k: pytest.fail('trained twice'))
        again = segmenters.build_segmenter(opt, torch.device('cpu'))
        assert all(torch.equal(a, b) for a, b in zip(seg.net.state_dict().values(), again.net.state_dict().values()))
        return opt, seg


def test_segmenter_on_real_test_images(segmenter):
    opt, seg = segmenter
    evaluator = SegmentationEvaluator.__new__(SegmentationEvaluator)
    evaluator.segmenter, evaluator.ignore = seg, None
    evaluator.reset()
    data = create_dataset(make_options({'dataset_mode': 'synthetic', 'gpu_ids': '-1', 'synthetic_size': 32},
                                       is_train=False))
    batch = [data[i] for i in range(32)]
    images, labels = torch.stack([b['image'] for b in batch]), torch.stack([b['label'] for b in batch])
    evaluator.add(images, labels, real=images)
    result = evaluator.result()
    assert result['miou'] >= 0.85 and result['miou_ratio'] == pytest.approx(1.0)


def painted(labels, appearance, opt):
    """Images of the label maps with class c painted as class appearance[c] (colour and texture)."""
    colours, kinds = class_styles(opt.label_nc)
    h, w = labels.shape[-2:]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = np.empty((len(labels), h, w, 3), np.float32)
    for i, label in enumerate(labels[:, 0].numpy()):
        for c in np.unique(label):
            mask, a = label == c, appearance[c]
            out[i][mask] = colours[a] + TEXTURE_AMPLITUDE * texture(kinds[a], xx[mask], yy[mask])[:, None]
    return torch.from_numpy(out.clip(0, 1)).permute(0, 3, 1, 2) * 2 - 1


@pytest.mark.parametrize('a,b,what', [(0, 4, 'equal texture (flat), colours swapped'),
                                      (0, 1, 'equal colour, textures swapped (flat <-> stripes)'),
                                      (2, 3, 'equal colour, textures swapped (checkers <-> dots)')])
def test_segmenter_tells_classes_apart_by_colour_and_by_texture(segmenter, a, b, what):
    opt, seg = segmenter
    data = create_dataset(make_options({'dataset_mode': 'synthetic', 'gpu_ids': '-1', 'synthetic_size': 24},
                                       is_train=False))
    labels = torch.stack([data[i]['label'] for i in range(24)])
    swap = list(range(opt.label_nc))
    swap[a], swap[b] = b, a
    predicted = seg(painted(labels, swap, opt))
    expected = torch.tensor(swap)[labels[:, 0]]
    for cls in (a, b):
        where = labels[:, 0] == cls
        assert where.any()
        accuracy = float((predicted[where] == expected[where]).float().mean())
        assert accuracy > 0.8, f'{what}: class {cls} painted as {swap[cls]} predicted right on {accuracy:.2f}'


def test_no_segmenter_for_a_dataset_without_one():
    from semsyn.errors import UserError
    opt = make_options({'dataset_mode': 'coco', 'gpu_ids': '-1'}, is_train=False)
    with pytest.raises(UserError, match='--segmenter'):
        segmenters.build_segmenter(opt, torch.device('cpu'))
