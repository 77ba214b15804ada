"""Any folders of label maps and photos paired by file name (--label_dir, --image_dir,
optional --instance_dir)."""
from ..errors import UserError
from .base import PairedDataset


class CustomDataset(PairedDataset):
    needs_dataroot = False
    layout = ('--label_dir with single-channel label maps and --image_dir with photos of the same file names '
              '(and --instance_dir with instance maps, or --no_instance)')

    def get_paths(self, opt):
        for key in ('label_dir', 'image_dir'):
            if not getattr(opt, key):
                raise UserError(f'--dataset_mode custom needs --{key}; expected {self.layout}')
        labels = self.list_folder(opt.label_dir, 'label maps')
        images = self.list_folder(opt.image_dir, 'images')
        instances = []
        if not opt.no_instance:
            if not opt.instance_dir:
                raise UserError('--dataset_mode custom without --instance_dir needs --no_instance '
                                '(the instance edge map is an input otherwise)')
            instances = self.list_folder(opt.instance_dir, 'instance maps')
        return labels, images, instances
