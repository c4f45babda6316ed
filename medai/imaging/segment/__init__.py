"""Segmentation: U-Net models that mark organs and lesions, their measurements and exports."""
