"""Image-quality metrics: FID (pytorch-fid parity) and KID."""
