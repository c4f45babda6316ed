"""Every reader, fed damaged copies of the sample files, reads them or says why: never another exception.

Seeded byte damage (flips, cuts, inserts, repeats, odd bytes) of each kind of input the app takes. The
same damage, run longer, found a lone carriage return and an unclosed quote breaking both CSV readers,
and an unknown DICOM value representation breaking the DICOM reader.
"""

from __future__ import annotations

import io
import json
import random
import tarfile

import pytest
from PIL import Image

from medai.drug.io import read_molecules
from medai.drug.standardize import standardize_mol, to_mol
from medai.errors import MedAIError
from medai.imaging.io import read_image
from medai.timeline.sources import read_upload
from tests.conftest import REPO

SAMPLES = REPO / "sample_data"
COPIES = 150
ODD_BYTES = (b"\x00" * 8, b"\xff" * 8, b"-1", b"1e309", b"nan", b"\r", b"\n\n", b",,,,", b'"', b"\t", b"\xef\xbb\xbf",
             "é".encode(), b"9" * 40)


def damaged(data: bytes, rng: random.Random) -> bytes:
    """A copy of ``data`` with 1 to 64 random edits, its line endings sometimes rewritten first."""
    if rng.random() < 0.2:  # as a file passed through another system: CR alone (old Mac) or CR LF
        data = data.replace(b"\n", rng.choice([b"\r", b"\r\n"]))
    copy = bytearray(data)
    for _ in range(rng.choice([1, 2, 4, 16, 64])):
        if not copy:
            break
        at, draw = rng.randrange(len(copy)), rng.random()
        if draw < 0.4:
            copy[at] = rng.randrange(256)
        elif draw < 0.55:
            del copy[at:at + rng.randrange(1, 64)]
        elif draw < 0.7:
            copy[at:at] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 16)))
        elif draw < 0.8:
            del copy[at:]
        elif draw < 0.9:
            copy[at:at] = copy[at:at + rng.randrange(1, 200)] * rng.randrange(1, 50)
        else:
            copy[at:at] = rng.choice(ODD_BYTES)
    return bytes(copy)


def _molecules(data: bytes, name: str) -> None:
    for molecule in read_molecules(data, name)[:50]:
        try:
            standardize_mol(to_mol(molecule.smiles))
        except MedAIError:
            pass


def _fhir_bundle() -> bytes:
    entries = [{"resource": {"resourceType": "Patient", "id": "p1", "gender": "male", "birthDate": "1950-01-01"}}]
    entries += [{"resource": {"resourceType": "Observation", "id": f"o{k}", "status": "final",
                              "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                              "subject": {"reference": "Patient/p1"}, "effectiveDateTime": f"2024-05-01T1{k}:00:00Z",
                              "valueQuantity": {"value": 80 + k, "unit": "/min", "code": "/min"}}} for k in range(10)]
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}).encode()


def _sdf() -> bytes:
    from rdkit import Chem

    text = io.StringIO()
    with Chem.SDWriter(text) as writer:
        for smiles in ("CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1"):
            writer.write(Chem.MolFromSmiles(smiles))
    return text.getvalue().encode()


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.open(SAMPLES / "imaging" / "cxr_normal_NORMAL2-IM-1427-0001.jpeg").convert("L").resize((300, 260)).save(
        buffer, format="PNG")
    return buffer.getvalue()


def _tar_gz() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in sorted((SAMPLES / "timeline").glob("13*.txt"))[:2]:
            archive.add(path, arcname=path.name)
    return buffer.getvalue()


KINDS = {
    "jpeg": (lambda data: read_image(data),
             lambda: (SAMPLES / "imaging/cxr_normal_NORMAL2-IM-1427-0001.jpeg").read_bytes()),
    "png": (lambda data: read_image(data), _png),
    "dicom": (lambda data: read_image(data),
              lambda: (SAMPLES / "imaging/cxr_pneumonia_person1950_bacteria_4881.dcm").read_bytes()),
    "colour jpeg": (lambda data: read_image(data, keep_colour=True),
                    lambda: (SAMPLES / "imaging/fundus_retina_CHASE_Image_01L.jpg").read_bytes()),
    "molecule csv": (lambda data: _molecules(data, "x.csv"), lambda: (SAMPLES / "drug/molecules.csv").read_bytes()),
    "sd file": (lambda data: _molecules(data, "x.sdf"), _sdf),
    "physionet": (lambda data: read_upload(data, "132539.txt"), lambda: (SAMPLES / "timeline/132539.txt").read_bytes()),
    "long csv": (lambda data: read_upload(data, "long.csv"),
                 lambda: (SAMPLES / "timeline/long_format_132540.csv").read_bytes()),
    "fhir bundle": (lambda data: read_upload(data, "bundle.json"), _fhir_bundle),
    "tar.gz": (lambda data: read_upload(data, "set.tar.gz"), _tar_gz),
}


@pytest.mark.parametrize("kind", KINDS)
def test_damaged_copies_are_read_or_refused_with_a_reason(kind):
    read, original = KINDS[kind]
    source, rng = original(), random.Random(kind)
    for copy in range(COPIES):
        data = damaged(source, rng)
        try:
            read(data)
        except MedAIError:
            pass
        except Exception as exc:  # noqa: BLE001  the finding this test exists for
            pytest.fail(f"{kind}, damaged copy {copy}: {type(exc).__name__}: {exc}")
