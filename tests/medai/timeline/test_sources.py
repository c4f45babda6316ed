"""Where stays come from: a .tar.gz, a folder of PhysioNet files, long CSVs and FHIR Bundles (a bad file is
an error item in its place), one file, an upload; empty inputs named as such."""

from __future__ import annotations

import io
import os
import tarfile

import pytest

from medai.errors import InputError, InputTooLargeError
from medai.timeline import sources
from medai.timeline.io import Stay
from tests.medai.timeline.test_io import PHYSIONET

LONG_CSV = b"patient_id,time,variable,value\nbed1,1,HR,80\nbed1,2,HR,82\nbed2,1,HR,90\n"


def _tar(path, members: dict[str, bytes]):
    """A .tar.gz at ``path`` holding ``members`` (name → bytes)."""
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_tar_and_folder(tmp_path):
    archive = tmp_path / "set.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, data in (("set/1.txt", PHYSIONET), ("set/2.txt", b"garbage")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    read = list(sources.read_stays(archive))
    assert isinstance(read[0], Stay) and read[1][0] == "2" and isinstance(read[1][1], InputError)
    assert read[0].source == "set.tar.gz/set/1.txt"
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "132539.txt").write_bytes(PHYSIONET)
    # An archive cut in a copy: the patients before the break are read, the break is one error item.
    big = tmp_path / "big.tar.gz"
    with tarfile.open(big, "w:gz") as tar:
        for k in range(40):
            info = tarfile.TarInfo(f"set/{k:03d}.txt")
            data = PHYSIONET + bytes(os.urandom(4000).hex(), "ascii")  # incompressible: the cut falls mid-archive
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(big.read_bytes()[: big.stat().st_size // 2])
    read = list(sources.read_stays(cut))
    assert 5 < sum(isinstance(item, Stay) for item in read) < 40
    assert read[-1][0] == "cut.tar.gz" and "breaks off" in str(read[-1][1])
    with pytest.raises(InputError, match="cannot be read"):
        (tmp_path / "junk.tar.gz").write_bytes(b"not an archive")
        list(sources.read_stays(tmp_path / "junk.tar.gz"))
    assert [s.patient_id for s in sources.read_stays(folder)] == ["132539"]
    with pytest.raises(InputError):
        list(sources.read_stays(tmp_path / "missing"))


def test_a_folder_reads_long_csvs_too_and_names_a_bad_file_in_its_place(tmp_path):
    (tmp_path / "132539.txt").write_bytes(PHYSIONET)
    (tmp_path / "ward.csv").write_bytes(LONG_CSV)
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "notes.md").write_text("not read: not a stay format")
    read = list(sources.read_stays(tmp_path))
    assert [r.patient_id if isinstance(r, Stay) else r[0] for r in read] == ["132539", "empty.csv", "bed1", "bed2"]
    assert str(read[1][1]) == "The file is empty."
    assert [r.source for r in read if isinstance(r, Stay)] == ["132539.txt", "ward.csv", "ward.csv"]
    assert [s.source for s in sources.read_stays(tmp_path / "ward.csv")] == ["ward.csv", "ward.csv"]


def test_one_empty_file_is_named_empty(tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"\n")
    with pytest.raises(InputError, match="The file is empty"):
        list(sources.read_stays(tmp_path / "empty.csv"))
    with pytest.raises(InputError, match="The file is empty"):
        sources.read_upload(b"", "x.csv")


def test_a_folder_laid_out_as_physionet_ships_a_set_reads_its_archive_and_skips_the_outcomes(tmp_path):
    """``set-c.tar.gz`` beside ``Outcomes-c.txt`` and a README, as in the shared PhysioNet folder."""
    with tarfile.open(tmp_path / "set-c.tar.gz", "w:gz") as tar:
        info = tarfile.TarInfo("set-c/132539.txt")
        info.size = len(PHYSIONET)
        tar.addfile(info, io.BytesIO(PHYSIONET))
    (tmp_path / "Outcomes-c.txt").write_bytes(b"RecordID,SAPS-I,SOFA,Length_of_stay,Survival,In-hospital_death\n"
                                              b"132539,6,1,5,-1,0\n")
    (tmp_path / "README.md").write_text("PhysioNet 2012")
    read = list(sources.read_stays(tmp_path))
    assert [(s.patient_id, s.source) for s in read] == [("132539", "set-c.tar.gz/set-c/132539.txt")]
    # A long CSV whose id column is named RecordID is a patient, not the outcomes table.
    (tmp_path / "ward.csv").write_bytes(b"RecordID,time,variable,value\nbed1,1,HR,80\n")
    assert [s.patient_id for s in sources.read_stays(tmp_path)] == ["132539", "bed1"]
    (tmp_path / "ward.csv").unlink()
    (tmp_path / "set-d.tar.gz").write_bytes(b"not an archive")
    assert [r[0] if isinstance(r, tuple) else r.patient_id for r in sources.read_stays(tmp_path)] == \
        ["132539", "set-d.tar.gz"]


def test_members_an_archive_skips_count_towards_its_size_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MAX_ARCHIVE_BYTES", 100_000)
    archive = tmp_path / "skips.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, data in (("set/blob.bin", bytes(200_000)), ("set/1.txt", PHYSIONET)):  # the blob is no stay
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with pytest.raises(InputError, match="unpacks to more than"):
        list(sources.read_stays(archive))


def test_a_json_nested_too_deeply_is_one_bad_file_not_a_crash(tmp_path):
    (tmp_path / "132539.txt").write_bytes(PHYSIONET)
    (tmp_path / "nested.json").write_text('{"resourceType":"Bundle","entry":' + "[" * 100_000 + "]" * 100_000 + "}")
    read = list(sources.read_stays(tmp_path))
    assert [r.patient_id if isinstance(r, Stay) else r[0] for r in read] == ["132539", "nested.json"]
    assert "nested too deeply" in str(read[1][1])


def test_an_archive_holds_at_most_max_stays_files(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MAX_STAYS", 2)
    two = _tar(tmp_path / "two.tar.gz", {"a.txt": PHYSIONET, "b.txt": PHYSIONET})
    assert len(list(sources.iter_tar(two))) == 2
    three = _tar(tmp_path / "three.tar.gz", {"a.txt": PHYSIONET, "b.txt": PHYSIONET, "c.txt": PHYSIONET})
    with pytest.raises(InputTooLargeError):
        list(sources.iter_tar(three))


def test_macos_dot_underscore_members_of_an_archive_are_skipped(tmp_path):
    archive = _tar(tmp_path / "set.tar.gz", {"set/132539.txt": PHYSIONET, "set/._132539.txt": b"\x00\x05\x16\x07"})
    (stay,) = sources.read_stays(archive)
    assert isinstance(stay, Stay)


def test_upper_case_file_names_in_a_folder_are_read(tmp_path):
    (tmp_path / "132539.TXT").write_bytes(PHYSIONET)
    (stay,) = sources.read_stays(tmp_path)
    assert isinstance(stay, Stay) and stay.source == "132539.TXT"


def test_an_uploaded_physionet_file_with_a_byte_order_mark_is_read_as_physionet():
    (stay,) = sources.read_upload(b"\xef\xbb\xbf" + PHYSIONET, "132539.txt")
    assert stay.patient_id == "132539"
