"""``python -m medai segment``: one folder of full-size mask PNGs per image, one CSV, exit codes 0/1/2.

Runs the shipped ``cxr-lungs`` model on the repository's sample X-rays.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from PIL import Image

from medai import registry
from medai.cli import main
from medai.store import AuditStore
from tests.conftest import REPO

MODEL = "cxr-lungs"
XRAY = "cxr_pneumonia_person1946_bacteria_4874.jpeg"  # 968 x 592
DICOM = "cxr_pneumonia_person1950_bacteria_4881.dcm"   # 1256 x 864, MONOCHROME1
RETINA = "fundus_retina_CHASE_Image_01L.jpg"


@pytest.fixture(scope="module")
def structures() -> tuple[str, ...]:
    """The shipped model's structures (a missing model is a failure here, never a skip)."""
    return registry.get_spec(MODEL).labels


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _input_size(path: Path) -> tuple[int, int]:
    """(width, height) as an independent reader sees the file."""
    if path.suffix == ".dcm":
        dataset = pydicom.dcmread(path, stop_before_pixels=True)
        return int(dataset.Columns), int(dataset.Rows)
    with Image.open(path) as image:
        return image.size


@pytest.fixture
def mixed_folder(samples, tmp_path) -> Path:
    """Two good X-rays (JPEG, DICOM), a colour photograph, a truncated JPEG and two text files."""
    folder = tmp_path / "inputs"
    folder.mkdir()
    for name in (XRAY, DICOM, RETINA):
        shutil.copy(samples / name, folder / name)
    (folder / "corrupt.jpeg").write_bytes((samples / XRAY).read_bytes()[:3000])
    (folder / "notes.png").write_text("not an image, only text\n")
    (folder / "README").write_text("an extension-less text file, taken as a possible DICOM\n")
    return folder


def test_mixed_folder_writes_exact_size_masks_for_good_images_and_rows_for_all(mixed_folder, tmp_path, structures):
    out = tmp_path / "out"
    code = main(["segment", str(mixed_folder), "--model", MODEL, "--output", str(out), "--quiet"])
    assert code == 1  # three inputs could not be read

    rows = _rows(out / "measurements.csv")
    inputs = sorted(p.name for p in mixed_folder.iterdir())
    assert sorted({Path(row["file"]).name for row in rows}) == inputs
    by_file: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_file.setdefault(Path(row["file"]).name, []).append(row)
    for bad in ("corrupt.jpeg", "notes.png", "README"):
        (row,) = by_file[bad]
        assert row["status"] == "error" and row["message"]
        assert row["structure"] == row["area_px"] == row["mask_dir"] == ""
    (refused,) = by_file[RETINA]
    assert refused["status"] == "refused" and "colour" in refused["message"]
    if "retina-vessels" in registry.names():  # the refusal names the model that reads it, as the page does
        assert "It looks like what retina-vessels reads: run again with --model retina-vessels." in refused["message"]

    assert sorted(p.name for p in out.iterdir()) == sorted([Path(XRAY).stem, Path(DICOM).stem, "measurements.csv"])
    for name in (XRAY, DICOM):
        good = by_file[name]
        assert [row["structure"] for row in good] == list(structures)
        assert {row["status"] for row in good} == {"ok"} and {row["mask_dir"] for row in good} == {Path(name).stem}
        width, height = _input_size(mixed_folder / name)
        for row in good:
            with Image.open(out / Path(name).stem / f"{row['structure']}.png") as png:
                assert png.mode == "L" and png.size == (width, height)
                pixels = np.asarray(png)
            assert set(np.unique(pixels)) <= {0, 255}
            assert int((pixels == 255).sum()) == int(row["area_px"])  # the CSV measures the PNG's mask
        assert float(good[0]["cardiothoracic_ratio"]) > 0
        # Radiological convention: the patient's right lung is on the viewer's left.
        columns = {lung: np.nonzero(np.asarray(Image.open(out / Path(name).stem / f"{lung}.png")))[1].mean()
                   for lung in ("right_lung", "left_lung")}
        assert columns["right_lung"] < width / 2 < columns["left_lung"]

    records = AuditStore().recent_predictions()
    assert len(records) == 6 and {r.source for r in records} == {"cli"} and {r.model_name for r in records} == {MODEL}
    assert sorted(r.status for r in records) == ["error", "error", "error", "ok", "ok", "refused"]
    assert all(r.input_sha256 and len(r.input_sha256) == 64 for r in records)  # unreadable files too


def test_repeated_stems_get_numbered_folders_and_dicom_inputs_a_dicom_seg(samples, tmp_path, structures):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        shutil.copy(samples / XRAY, tmp_path / folder / XRAY)
    shutil.copy(samples / DICOM, tmp_path / "a" / DICOM)
    out = tmp_path / "out"
    code = main(["segment", str(tmp_path / "a"), str(tmp_path / "b"), "--model", MODEL, "--output", str(out),
                 "--quiet", "--no-audit", "--dicom-seg"])
    assert code == 0
    stem = Path(XRAY).stem
    rows = _rows(out / "measurements.csv")
    assert [row["mask_dir"] for row in rows][::len(structures)] == [stem, Path(DICOM).stem, f"{stem}-2"]
    assert sorted(p.name for p in (out / f"{stem}-2").iterdir()) == sorted(f"{s}.png" for s in structures)
    assert not (out / stem / "segmentation.dcm").exists()
    seg = hd.seg.segread(io.BytesIO((out / Path(DICOM).stem / "segmentation.dcm").read_bytes()))
    assert seg.number_of_segments == len(structures) and (seg.Rows, seg.Columns) == (864, 1256)
    right_lung = np.asarray(Image.open(out / Path(DICOM).stem / "right_lung.png")) == 255
    source_uid = pydicom.dcmread(samples / DICOM, stop_before_pixels=True).SOPInstanceUID
    np.testing.assert_array_equal(seg.get_pixels_by_source_instance([source_uid], segment_numbers=[1])[0, ..., 0],
                                  right_lung)
    assert AuditStore().recent_predictions() == []  # --no-audit


@pytest.mark.parametrize("case", ["unknown model", "not a segmentation model", "no inputs", "output under a file"])
def test_command_that_cannot_run_exits_2_with_one_line(case, samples, tmp_path, capsys):
    empty, blocker = tmp_path / "empty", tmp_path / "file.txt"
    empty.mkdir()
    blocker.write_text("x")
    inputs, model, out = [str(samples / XRAY)], MODEL, tmp_path / "out"
    if case == "unknown model":
        model = "no-such-model"
    elif case == "not a segmentation model":
        model = "cxr-pneumonia"
    elif case == "no inputs":
        inputs = [str(empty)]
    else:
        out = blocker / "out"
    assert main(["segment", *inputs, "--model", model, "--output", str(out), "--quiet"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and error.count("\n") == 1
    assert not (out / "measurements.csv").exists()


def test_module_entry_point_shows_progress_and_exits_0(samples, tmp_path, structures):
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "medai", "segment", str(samples / DICOM), "--model", MODEL, "--output", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
        env={**os.environ, "MEDAI_DB_URL": f"sqlite:///{tmp_path / 'a.sqlite'}"})
    assert done.returncode == 0, done.stderr
    assert "1/1" in done.stderr and "Traceback" not in done.stderr and "oneDNN" not in done.stderr
    assert sorted(p.name for p in (out / Path(DICOM).stem).iterdir()) == sorted(f"{s}.png" for s in structures)


def test_a_failure_inside_the_model_costs_one_row_not_the_batch(samples, tmp_path, monkeypatch, structures):
    model = registry.load(MODEL)
    original = model.predict_one

    def fails_on_the_dicom(image):
        if image.format == "dicom":
            raise RuntimeError("simulated failure inside the network")
        return original(image)

    monkeypatch.setattr(model, "predict_one", fails_on_the_dicom)
    out = tmp_path / "out"
    inputs = [str(samples / DICOM), str(samples / XRAY)]
    assert main(["segment", *inputs, "--model", MODEL, "--output", str(out), "--quiet", "--no-audit"]) == 1
    rows = _rows(out / "measurements.csv")
    assert [row["status"] for row in rows] == ["error"] + ["ok"] * len(structures)
    assert "could not be segmented" in rows[0]["message"] and "simulated" not in rows[0]["message"]
    assert sorted(p.name for p in out.iterdir()) == sorted([Path(XRAY).stem, "measurements.csv"])


def test_a_file_name_cannot_send_the_masks_outside_the_output_folder(samples, tmp_path, structures):
    (tmp_path / "in").mkdir()
    shutil.copy(samples / XRAY, tmp_path / "in" / "...png")  # its stem is "..", the output folder's parent
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "evil").symlink_to(elsewhere, target_is_directory=True)
    shutil.copy(samples / XRAY, tmp_path / "in" / "evil.jpeg")
    code = main(["segment", str(tmp_path / "in" / "...png"), str(tmp_path / "in" / "evil.jpeg"), "--model", MODEL,
                 "--output", str(out), "--quiet", "--no-audit"])
    assert code == 0
    assert [row["mask_dir"] for row in _rows(out / "measurements.csv")][::len(structures)] == ["image", "evil-2"]
    assert not list(elsewhere.iterdir()) and not (tmp_path / f"{structures[0]}.png").exists()
