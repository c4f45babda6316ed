"""Every Python example in the README runs as written, on the sample files it names."""

import re
import shutil
from pathlib import Path

import pytest
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
EXAMPLES = re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.S | re.M)
# The file names the examples read, and the sample each one stands for.
FILES = {"scan.jpeg": "imaging/cxr_pneumonia_person1946_bacteria_4874.jpeg",
         "film.png": "imaging/cxr_normal_NORMAL2-IM-1427-0001.jpeg",
         "molecules.csv": "drug/molecules.csv", "132539.txt": "timeline/132539.txt",
         "ward_set_a.csv": "timeline/ward_set_a.csv"}


def test_the_readme_has_an_example_for_every_domain():
    imported = " ".join(EXAMPLES)
    for module in ("medai.imaging.service", "medai.imaging.segment.service", "medai.drug.service",
                   "medai.timeline.service", "medai.timeline.ward"):
        assert f"from {module} import" in imported


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.splitlines()[0] for e in EXAMPLES])
def test_example_runs(example, tmp_path, monkeypatch):
    for name, sample in FILES.items():
        if name.endswith(".png"):
            Image.open(REPO / "sample_data" / sample).save(tmp_path / name)
        else:
            shutil.copyfile(REPO / "sample_data" / sample, tmp_path / name)
    names = set(re.findall(r"[\w.-]+\.(?:jpeg|png|csv|txt)\b", example))
    assert names <= FILES.keys(), f"the test has no sample for {names - FILES.keys()}"
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "README example", "exec"), {})
