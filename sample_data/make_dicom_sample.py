"""Re-create ``imaging/cxr_pneumonia_person1950_bacteria_4881.dcm`` from its JPEG (run from the repo root).

The Kermany data are JPEG exports; this wraps one of them in a DICOM file the way a modality would
store it (12-bit MONOCHROME1 with a VOI window), to demonstrate the DICOM path. No patient tags are
written, and no pixel spacing, which the source does not give.
"""

from pathlib import Path

import numpy as np
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

FOLDER = Path(__file__).resolve().parent / "imaging"
SOURCE = FOLDER / "cxr_pneumonia_person1950_bacteria_4881.jpeg"

grey = np.asarray(Image.open(SOURCE).convert("L"), dtype=np.uint16)
stored = (4095 - grey * 16).astype(np.uint16)  # MONOCHROME1: high values display dark
meta = FileMetaDataset()
meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1"  # Computed Radiography Image Storage
meta.MediaStorageSOPInstanceUID = generate_uid()
meta.TransferSyntaxUID = ExplicitVRLittleEndian
dataset = Dataset()
dataset.file_meta = meta
dataset.SOPClassUID = meta.MediaStorageSOPClassUID
dataset.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
dataset.Modality, dataset.ViewPosition, dataset.BodyPartExamined = "CR", "AP", "CHEST"
dataset.Rows, dataset.Columns = stored.shape
dataset.SamplesPerPixel, dataset.PhotometricInterpretation = 1, "MONOCHROME1"
dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit, dataset.PixelRepresentation = 16, 12, 11, 0
dataset.RescaleIntercept, dataset.RescaleSlope = 0, 1
dataset.WindowCenter, dataset.WindowWidth = 2048, 4096
dataset.PixelData = stored.tobytes()
dataset.save_as(SOURCE.with_suffix(".dcm"), enforce_file_format=True)
