"""``python -m medai screen`` / ``optimize``: the CSV contract and exit codes."""

import csv
import re

import pytest

from medai.cli import main
from medai.drug.lead import ANALOGUE_COLUMNS

SAMPLE = "sample_data/drug/molecules.csv"


def read(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_screen_sample_file(tmp_path):
    out = tmp_path / "r.csv"
    assert main(["screen", SAMPLE, "--output", str(out), "--quiet"]) == 0
    rows = read(out)
    assert len(rows) == 14 and rows[0]["id"] == "aspirin" and rows[-1]["valid"] == "False"
    for column in ("smiles", "canonical_smiles", "valid", "message", "logS", "logS_std", "logD", "tox21_NR-AR",
                   "tox21_SR-p53", "bbb_penetration", "clinical_toxicity", "bace1_active", "bace1_active_std",
                   "nearest_train_similarity", "in_domain", "qed", "pains_alerts", "alerts"):
        assert column in rows[0]
    assert "PAINS" in rows[9]["alerts"]


def test_screen_keeps_the_inputs_own_columns(tmp_path):
    source = tmp_path / "assay.csv"
    source.write_text("Compound name,SMILES,IC50 (nM)\naspirin,CC(=O)Oc1ccccc1C(=O)O,120\nbad,xx,7\n")
    out = tmp_path / "r.csv"
    assert main(["screen", str(source), "--output", str(out), "--quiet", "--no-audit"]) == 0
    rows = read(out)
    assert list(rows[0])[-1] == "IC50 (nM)" and [r["IC50 (nM)"] for r in rows] == ["120", "7"]


def test_screen_unreadable_input_exits_2(tmp_path, capsys):
    assert main(["screen", str(tmp_path / "missing.csv"), "--quiet"]) == 2
    assert main(["screen", str(tmp_path), "--quiet"]) == 2 and "is a folder" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    assert main(["screen", str(bad), "--quiet"]) == 2
    assert "SMILES column" in capsys.readouterr().err
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert main(["screen", str(empty), "--quiet"]) == 2
    assert "empty" in capsys.readouterr().err
    assert main(["screen", SAMPLE, "--output", str(tmp_path / "no" / "x.csv"), "--quiet"]) == 2


@pytest.mark.parametrize("command", [["screen", SAMPLE], ["optimize", "CCO"]])
def test_an_output_that_cannot_be_created_is_one_line_and_exit_2(command, tmp_path, capsys, monkeypatch):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("medai.cli.open", full_disk, raising=False)  # what the checks cannot foresee
    assert main([*command, "--output", str(tmp_path / "r.csv"), "--quiet", "--no-audit"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: The output CSV cannot be created; choose another --output."]


def test_optimize_writes_ranked_analogues(tmp_path, capsys):
    out = tmp_path / "a.csv"
    assert main(["optimize", "CC(=O)Nc1ccc(O)cc1", "--n", "5", "--output", str(out)]) == 0
    done, total = re.findall(r"(\d+)/(\d+)", capsys.readouterr().err)[-1]  # the progress bar knows its total
    assert done == total and int(total) > 5
    rows = read(out)
    assert 1 <= len(rows) <= 5
    scores = [float(r["score"]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    assert all(float(r["similarity_to_lead"]) >= 0.4 for r in rows)
    lead_score = float(rows[0]["lead_score"])  # the lead's own score, so "better" has a reference
    assert {r["lead_score"] for r in rows} == {rows[0]["lead_score"]} and 0 <= lead_score <= 1
    assert all((r["better_than_lead"] == "True") == (float(r["score"]) > lead_score) for r in rows)
    assert {r["lead_smiles"] for r in rows} == {"CC(=O)Nc1ccc(O)cc1"}  # a saved table names its lead
    assert main(["optimize", "not a smiles", "--output", str(tmp_path / "b.csv")]) == 2
    assert not (tmp_path / "b.csv").exists(), "no empty file left to be taken for a result"
    assert main(["optimize", SAMPLE, "--output", str(tmp_path / "c.csv")]) == 2  # a file, not a lead SMILES
    assert list(rows[0]) == list(ANALOGUE_COLUMNS)


def test_a_lead_longer_than_a_file_name_can_be_is_read_as_a_smiles(tmp_path):
    lead = "C(F)(F)" * 40  # 280 characters: the operating system refuses it as a path ("File name too long")
    assert main(["optimize", lead, "--n", "3", "--output", str(tmp_path / "a.csv"), "--quiet", "--no-audit"]) == 0
    assert (tmp_path / "a.csv").read_text().startswith(",".join(ANALOGUE_COLUMNS))


def test_optimize_without_any_analogue_still_writes_the_whole_header(tmp_path, capsys):
    out = tmp_path / "none.csv"
    assert main(["optimize", "CCO", "--n", "5", "--output", str(out), "--no-audit"]) == 0  # ethanol: nothing similar
    assert out.read_text().strip() == ",".join(ANALOGUE_COLUMNS)
    said = capsys.readouterr().err
    assert "No analogue passed" in said and "screening the lead and its analogues" in said  # the progress bar


def test_large_input_uses_worker_processes_through_python_m_medai(tmp_path):
    """From PARALLEL_FROM molecules the CLI prepares them in worker processes: every row comes back,
    in input order, invalid ones included."""
    import subprocess
    import sys

    from medai.drug.pipeline import PARALLEL_FROM
    from tests.conftest import REPO

    smiles = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "CC(C)Cc1ccc(cc1)C(C)C(=O)O", "not a smiles"]
    source = tmp_path / "many.csv"
    source.write_text("id,smiles\n" + "".join(f"m{i},{smiles[i % len(smiles)]}\n" for i in range(PARALLEL_FROM)))
    out = tmp_path / "many_out.csv"
    done = subprocess.run([sys.executable, "-m", "medai", "screen", str(source), "--output", str(out), "--quiet",
                           "--no-audit"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = read(out)
    assert len(rows) == PARALLEL_FROM and rows[-1]["id"] == f"m{PARALLEL_FROM - 1}"
    assert sum(r["valid"] == "False" for r in rows) == PARALLEL_FROM // len(smiles)
    # The workers run the models too: their rows equal an in-process screen's.
    from medai.drug.io import MoleculeInput
    from medai.drug.service import csv_columns, screen

    inputs = [MoleculeInput(f"m{i}", s, "") for i, s in enumerate(smiles)]
    here = [m.row(csv_columns()) for m in screen(inputs).molecules]
    for worker_row, own_row in zip(rows, here):
        for column in ("canonical_smiles", "logS", "tox21_SR-p53_std", "bace1_active", "nearest_train_similarity",
                       "qed", "alerts", "logD_approved_pct", "mw_approved_pct"):
            assert worker_row[column] == str(own_row[column]), column


def test_optimize_says_when_it_keeps_fewer_than_asked_and_refuses_a_count_below_one(tmp_path, capsys):
    out = tmp_path / "few.csv"
    assert main(["optimize", "CC(=O)Nc1ccc(O)cc1", "--n", "100", "--output", str(out), "--no-audit", "--quiet"]) == 0
    kept = len(read(out))
    assert kept < 100 and f"Kept {kept} of the 100 asked for" in capsys.readouterr().err
    for count in ("-3", "0", "two"):
        try:
            main(["optimize", "CCO", "--n", count, "--no-audit"])
        except SystemExit as exit_:  # argparse: usage and one line on stderr
            assert exit_.code == 2
        else:
            raise AssertionError(f"--n {count} was accepted")
        assert "must be a whole number of at least 1" in capsys.readouterr().err
