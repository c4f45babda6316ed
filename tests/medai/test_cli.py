"""The CLI contract: one row per input, in input order, errors in a column, non-zero exit on errors."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from medai.cli import expand_inputs, main
from tests.conftest import REPO

REQUIRED = ["file", "p_normal", "p_pneumonia", "label", "uncertainty", "status", "message"]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_batch_keeps_order_marks_errors_and_exits_non_zero(samples, tmp_path):
    garbage = tmp_path / "notes.png"
    garbage.write_bytes(b"this is not an image at all")
    inputs = [str(samples / "cxr_pneumonia_person1946_bacteria_4874.jpeg"), str(garbage),
              str(tmp_path / "missing.dcm"), str(samples / "fundus_retina_CHASE_Image_01L.jpg"),
              str(samples / "cxr_normal_NORMAL2-IM-1427-0001.jpeg")]
    output = tmp_path / "results.csv"
    code = main(["diagnose", *inputs, "--model", "cxr-pneumonia", "--output", str(output), "--quiet"])
    rows = _rows(output)
    assert code == 1
    assert [row["file"] for row in rows] == inputs
    assert set(REQUIRED) <= set(rows[0])
    assert [row["status"] for row in rows] == ["ok", "error", "error", "refused", "ok"]
    assert rows[0]["label"] == "pneumonia" and rows[4]["label"] == "normal"
    assert float(rows[0]["p_normal"]) + float(rows[0]["p_pneumonia"]) == pytest.approx(1.0, abs=1e-5)
    assert 0.0 <= float(rows[0]["uncertainty"]) <= 0.5
    assert "PNG, JPEG or DICOM" in rows[1]["message"] and rows[2]["message"] == "No such file."
    assert rows[3]["p_pneumonia"] == "" and rows[3]["label"] == ""


def test_folder_of_good_images_exits_zero_and_writes_heatmaps(samples, tmp_path):
    output, heatmaps = tmp_path / "out.csv", tmp_path / "maps"
    code = main(["diagnose", str(samples), "--output", str(output), "--quiet", "--heatmaps", str(heatmaps)])
    rows = _rows(output)
    assert code == 0
    top_level = sorted(p.name for p in samples.iterdir() if p.suffix in {".jpeg", ".jpg", ".dcm"})
    assert [row["file"] for row in rows] == expand_inputs([str(samples)])  # sub-folders too, in walk order
    assert [Path(row["file"]).name for row in rows][:len(top_level)] == top_level
    dicom, jpeg = (next(r for r in rows if r["file"].endswith(s)) for s in ("4881.dcm", "4881.jpeg"))
    assert float(dicom["p_pneumonia"]) == pytest.approx(float(jpeg["p_pneumonia"]), abs=0.02)
    assert len(list(heatmaps.glob("*.png"))) == sum(row["status"] == "ok" for row in rows)


def test_a_file_over_the_byte_cap_is_refused_before_it_is_read(tmp_path, monkeypatch):
    from medai import cli
    from medai.errors import InputTooLargeError

    monkeypatch.setenv("MEDAI_MAX_UPLOAD_MB", "0.001")  # about 1 kB
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG" + bytes(5000))
    monkeypatch.setattr("builtins.open", lambda *args, **kwargs: pytest.fail("read before its size was checked"))
    assert isinstance(cli._read(str(big)), InputTooLargeError)


def test_expand_inputs_skips_hidden_and_non_image_files(tmp_path, capsys):
    (tmp_path / "b").mkdir()
    for name in ("a.png", "b/c.dcm", "b/IM0001", ".hidden.png", "README.md"):
        (tmp_path / name).write_bytes(b"x")
    named = str(tmp_path / "README.md")
    assert expand_inputs([str(tmp_path), named]) == [
        os.path.join(str(tmp_path), "a.png"), os.path.join(str(tmp_path), "b", "IM0001"),
        os.path.join(str(tmp_path), "b", "c.dcm"), named]
    said = capsys.readouterr().err  # the skipped file is named, the hidden one is not
    assert "Skipped 1 file in the folders not named as images" in said and "README.md" in said and ".hidden" not in said


def test_unknown_model_exits_2(samples, capsys):
    assert main(["diagnose", str(samples), "--model", "no-such-model", "--quiet"]) == 2
    assert "No model named 'no-such-model'" in capsys.readouterr().err


def test_module_entry_point_writes_csv_with_progress_bar(samples, tmp_path):
    output = tmp_path / "cli.csv"
    done = subprocess.run(
        [sys.executable, "-m", "medai", "diagnose", str(samples / "cxr_normal_NORMAL2-IM-1436-0001.jpeg"),
         "--model", "cxr-pneumonia", "--output", str(output)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env={**os.environ, "MEDAI_DB_URL": f"sqlite:///{tmp_path / 'a.sqlite'}"})
    assert done.returncode == 0, done.stderr
    assert "1/1" in done.stderr and "Traceback" not in done.stderr
    assert "oneDNN" not in done.stderr and "absl" not in done.stderr, "TensorFlow's import lines are kept out"
    assert _rows(output)[0]["status"] == "ok"


def test_the_quiet_keras_import_gives_the_error_stream_back(capfd):
    from medai.__main__ import import_keras_quietly

    import_keras_quietly()
    os.write(2, b"still heard\n")
    assert "still heard" in capfd.readouterr().err


def test_models_and_card_commands(capsys):
    assert main(["models"]) == 0
    assert "cxr-pneumonia" in capsys.readouterr().out
    assert main(["card", "cxr-pneumonia"]) == 0
    assert '"regulatory_status"' in capsys.readouterr().out


def _run_module(*arguments: str, cwd: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "medai", *arguments], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "MEDAI_DB_URL": f"sqlite:///{tmp_path / 'a.sqlite'}"})


def test_output_in_a_missing_folder_is_one_line_and_exit_2(samples, tmp_path):
    done = _run_module("diagnose", str(samples), "--output", "/no/such/dir/x.csv", "--quiet",
                       cwd=REPO, tmp_path=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr
    assert "folder for the output CSV does not exist" in done.stderr


def test_output_is_checked_before_any_work(samples, tmp_path, monkeypatch):
    def no_model(*_args, **_kwargs):
        raise AssertionError("the model was loaded before the output was checked")

    monkeypatch.setattr("medai.registry.load", no_model)
    assert main(["diagnose", str(samples), "--output", str(tmp_path / "missing" / "x.csv"), "--quiet"]) == 2
    assert main(["diagnose", str(samples), "--output", str(tmp_path), "--quiet"]) == 2  # a folder
    assert not (tmp_path / "audit.sqlite").exists()  # nothing was recorded either


def test_folder_without_images_says_so_and_exits_2(tmp_path, capsys):
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / "notes.txt").write_text("not an image")
    output = tmp_path / "out.csv"
    assert main(["diagnose", str(empty), "--output", str(output), "--quiet"]) == 2
    error = capsys.readouterr().err
    assert "No images found" in error and error.count("\n") == 1
    assert not output.exists()


def test_heatmap_folder_that_cannot_be_created_is_one_line_and_exit_2(samples, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should go")
    assert main(["diagnose", str(samples), "--heatmaps", str(blocker / "maps"), "--output",
                 str(tmp_path / "o.csv"), "--quiet"]) == 2
    assert "--heatmaps folder cannot be created" in capsys.readouterr().err


def test_a_heatmap_folder_whose_parent_is_missing_is_refused_not_built(samples, tmp_path, capsys):
    assert main(["diagnose", str(samples), "--heatmaps", str(tmp_path / "typo" / "maps"), "--output",
                 str(tmp_path / "o.csv"), "--quiet"]) == 2
    assert "parent folder must exist" in capsys.readouterr().err and not (tmp_path / "typo").exists()


@pytest.mark.parametrize("model", ["cxr-lungs", "icu-mortality", "drug-bace"])
def test_a_model_that_is_no_image_classifier_is_one_line_and_exit_2(samples, tmp_path, capsys, model):
    output = tmp_path / "o.csv"
    film = str(samples / "cxr_normal_NORMAL2-IM-1427-0001.jpeg")
    assert main(["diagnose", film, "--model", model, "--output", str(output), "--quiet"]) == 2
    error = capsys.readouterr().err
    assert "is not an image classifier; choose one of: cxr-pneumonia" in error and error.count("\n") == 1
    assert not output.exists()


def test_a_film_gets_the_same_probability_with_or_without_heat_maps(samples, tmp_path):
    # The model reads the same (reduced-scale) decode either way; heat maps add a full-size one to draw on.
    film = str(samples / "cxr_normal_NORMAL2-IM-1427-0001.jpeg")
    plain, mapped = tmp_path / "a.csv", tmp_path / "b.csv"
    main(["diagnose", film, "--output", str(plain), "--quiet", "--no-audit"])
    main(["diagnose", film, "--output", str(mapped), "--quiet", "--no-audit", "--heatmaps", str(tmp_path / "m")])
    assert _rows(plain)[0]["p_pneumonia"] == _rows(mapped)[0]["p_pneumonia"]


def test_the_csv_message_carries_the_reading_notes_the_page_prints(samples, tmp_path):
    # This normal film's five members spread widely (SD above 0.10): the page says so, and so must the CSV.
    output = tmp_path / "o.csv"
    main(["diagnose", str(samples / "cxr_normal_NORMAL2-IM-1427-0001.jpeg"), "--output", str(output), "--quiet",
          "--no-audit"])
    (row,) = _rows(output)
    assert float(row["uncertainty"]) > 0.10 and "members disagree" in row["message"]
