"""Re-create ``timeline/ward_set_a.csv`` from PhysioNet 2012 set A (run from the repo root with
``MEDAI_DATA_DIR`` set, or with ``../shared/data`` beside the checkout).

A ward is seen at one moment, its patients at different hours of their stays: twelve set-A stays
(drawn with a fixed seed) are each cut at a random hour between 8 and 47 and written as the documented
long CSV (``patient_id,time,variable,value,unit``; time in hours since admission), ids ``ward-<RecordID>``.
"""

import csv
from pathlib import Path

import numpy as np

from medai.timeline.datasets import physionet_dir
from medai.timeline.io import read_physionet
from medai.timeline.sources import iter_tar
from medai.timeline.vocabulary import descriptors, table_row, variable_names

TARGET = Path(__file__).resolve().parent / "timeline" / "ward_set_a.csv"
STAYS, SEED = 12, 12

rng = np.random.default_rng(SEED)
files = sorted(iter_tar(physionet_dir() / "set-a.tar.gz"))
chosen = sorted(rng.choice(len(files), STAYS, replace=False))
with TARGET.open("w", newline="") as handle:
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(["patient_id", "time", "variable", "value", "unit"])
    for index in chosen:
        name, data = files[index]
        stay = read_physionet(data, name)
        stay = stay.until(float(rng.uniform(8.0, 47.0)))
        patient = f"ward-{stay.patient_id}"
        for descriptor, value in stay.descriptors.items():
            if value == value:
                writer.writerow([patient, 0.0, descriptor, f"{value:g}", descriptors()[descriptor].unit])
        for time, variable, value in zip(stay.time, stay.variable, stay.value):
            label = variable_names()[variable]
            writer.writerow([patient, f"{time:.4g}", label, f"{value:g}", table_row(label).unit])
print(f"wrote {TARGET}")
