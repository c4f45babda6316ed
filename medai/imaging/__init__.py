"""Imaging: readers (PNG/JPEG/DICOM), the chest X-ray classifier, refusal, Grad-CAM, training."""
