"""Fetching public data for users with a network, tested on ``file://`` addresses (tests never download)."""

import hashlib
import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from medai import config
from medai.cli import main
from medai.downloads import fetch
from medai.drug import datasets as drug_datasets
from medai.drug import external
from medai.errors import DataNotFoundError
from medai.imaging import datasets as imaging_datasets
from medai.timeline import datasets as timeline_datasets


def test_fetch_keeps_the_file_only_when_whole_and_matching(tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(b"x" * 3_000_000)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    target = tmp_path / "out" / "file.bin"
    assert fetch(source.as_uri(), target, digest) == digest and target.read_bytes() == source.read_bytes()
    with pytest.raises(DataNotFoundError, match="does not match"):
        fetch(source.as_uri(), tmp_path / "other.bin", "0" * 64)
    with pytest.raises(DataNotFoundError, match="Could not download"):
        fetch((tmp_path / "missing.bin").as_uri(), tmp_path / "other.bin")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "source.bin"]  # no partial file left


def _jpeg(side: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, side[::-1], dtype=np.uint8)).save(out, "JPEG")
    return out.getvalue()


def test_the_chest_xray_archive_becomes_the_training_copies_the_trainer_reads(tmp_path, monkeypatch):
    archive = tmp_path / "ChestXRay2017.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("chest_xray/train/NORMAL/IM-0001-0001.jpeg", _jpeg((600, 500)))
        bundle.writestr("chest_xray/train/PNEUMONIA/person1_bacteria_1.jpeg", _jpeg((700, 520)))
        bundle.writestr("chest_xray/test/NORMAL/IM-0002-0001.jpeg", _jpeg((600, 500)))
    data = tmp_path / "data"
    fetched = imaging_datasets.download_kermany(data, archive.as_uri())
    assert list(fetched) == ["imaging/kermany_cxr/ChestXRay2017.zip"]
    monkeypatch.setenv("MEDAI_DATA_DIR", str(data))
    pairs = imaging_datasets.list_training_files(imaging_datasets.kermany_root())
    assert [(path.name, label) for path, label in pairs] == [("IM-0001-0001.jpeg", 0), ("person1_bacteria_1.jpeg", 1)]
    assert all(Image.open(path).size == (224, 224) for path, _ in pairs)  # the test set stays in the archive


def test_moleculenet_huuskonen_and_physionet_land_where_their_loaders_read(tmp_path, monkeypatch):
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    for spec in drug_datasets.DATASETS.values():
        (upstream / spec.file).write_text("smiles\nCCO\n")
    (upstream / "solubility.train.sdf").write_bytes(b"sdf")
    for name in ("set-a.tar.gz", "set-b.tar.gz", "Outcomes-a.txt", "Outcomes-b.txt"):
        (upstream / name).write_bytes(name.encode())
    monkeypatch.setattr(timeline_datasets, "PHYSIONET_URL", upstream.as_uri() + "/{file}")
    monkeypatch.setattr(drug_datasets, "MOLECULENET_URL", upstream.as_uri() + "/{file}")
    monkeypatch.setattr(external, "HUUSKONEN_URL", (upstream / "solubility.train.sdf").as_uri())
    monkeypatch.setattr(external, "HUUSKONEN_SHA256", hashlib.sha256(b"sdf").hexdigest())
    data = tmp_path / "data"
    assert main(["download", "moleculenet", "--to", str(data)]) == 0
    assert main(["download", "huuskonen", "--to", str(data)]) == 0
    assert main(["download", "physionet2012", "--to", str(data)]) == 0
    monkeypatch.setenv("MEDAI_DATA_DIR", str(data))
    assert (config.data_dir() / external.HUUSKONEN_FILE).read_bytes() == b"sdf"
    assert all((config.data_dir() / "drug" / "moleculenet" / s.file).is_file() for s in drug_datasets.DATASETS.values())
    assert (timeline_datasets.physionet_dir() / "set-b.tar.gz").read_bytes() == b"set-b.tar.gz"


def test_a_download_that_does_not_match_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    (tmp_path / "solubility.train.sdf").write_bytes(b"changed upstream")
    monkeypatch.setattr(external, "HUUSKONEN_URL", (tmp_path / "solubility.train.sdf").as_uri())
    assert main(["download", "huuskonen", "--to", str(tmp_path / "data")]) == 2
    assert "does not match its published SHA-256" in capsys.readouterr().err
    assert not (tmp_path / "data" / external.HUUSKONEN_FILE).exists()


def test_an_interrupted_download_leaves_no_part_file(tmp_path, monkeypatch):
    from medai import downloads

    class CutShort:
        reads = 0

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self, size):
            CutShort.reads += 1
            if CutShort.reads > 1:
                raise ConnectionResetError("reset by peer")
            return b"x" * 10

    monkeypatch.setattr(downloads.urllib.request, "urlopen", lambda url, timeout: CutShort())
    with pytest.raises(DataNotFoundError):
        fetch("https://example.invalid/data.csv", tmp_path / "data.csv")
    assert list(tmp_path.iterdir()) == []
