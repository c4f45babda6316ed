"""De-identify a DICOM dataset: PS3.15 Annex E Basic Application Level Confidentiality Profile.

The actions are data: ``annex_e_basic.csv`` beside this module lists every attribute of Table
E.1-1 (DICOM 2023) by tag, keyword and the standard's action code. :data:`ACTIONS` says what each
code does here; where the standard lets the choice depend on the attribute's type (``X/Z``,
``X/D``, ``X/Z/D``, ``X/Z/U*``) the strictest one is taken: remove. On top of the table:

* dates (DA, DT) that the profile empties or replaces are shifted instead by a whole number of
  days, the same for every file of one patient (the *Retain Longitudinal Temporal Information
  with Modified Dates* option), so intervals survive; the birth date is emptied, never shifted;
* every UID that is not a registered DICOM UID (SOP classes, transfer syntaxes) is replaced by
  ``2.25.<128 bits of HMAC-SHA-256(salt, uid)>``, so the same input UID always maps to the same
  output UID in one installation and cannot be reversed without its salt;
* private tags, curves (groups 50xx) and overlay data and comments (60xx,3000 / 60xx,4000) go;
* Patient Identity Removed is set to ``YES`` with the method and its codes (113100, 113107).

The salt is ``MEDAI_DEID_SALT``, or a random one written once to ``var/deid-salt`` (mode 0600).
Burned-in text in the pixels is not detected: the profile leaves that to the user.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import UID_dictionary

from medai import config

TABLE = Path(__file__).with_name("annex_e_basic.csv")
# The standard's action code → what is done here (date/time and UID rules below take precedence).
ACTIONS = {"D": "dummy", "Z": "empty", "X": "remove", "U": "uid", "Z/D": "dummy", "X/Z": "remove",
           "X/D": "remove", "X/Z/D": "remove", "X/Z/U*": "remove"}
DUMMY_TEXT = {"PN": "ANONYMOUS", "AS": "000D"}  # other text VRs get "REMOVED" (fits every length limit)
NUMERIC_VRS = {"DS": "0", "IS": "0", "FL": 0.0, "FD": 0.0, "SL": 0, "SS": 0, "UL": 0, "US": 0, "SV": 0, "UV": 0}
MAX_SHIFT_DAYS = 3650
METHOD = "DICOM PS3.15 E.1 Basic Profile, modified dates (MedAI)"  # LO: at most 64 characters
METHOD_CODES = (("113100", "Basic Application Confidentiality Profile"),
                ("113107", "Retain Longitudinal Temporal Information Modified Dates Option"))


def load_table(path: Path = TABLE) -> dict[int, str]:
    """Tag (as an int) → action code, from the Annex E table file."""
    with path.open(newline="") as handle:
        return {int(row["tag"], 16): row["action"] for row in csv.DictReader(handle)}


BASIC_PROFILE = load_table()


@dataclass(frozen=True)
class Report:
    """What :func:`deidentify` did: counts per action (never the values)."""

    removed: int
    emptied: int
    dummied: int
    uids_replaced: int
    dates_shifted: int
    private_removed: int
    shift_days: int


def salt() -> bytes:
    """This installation's secret salt: ``MEDAI_DEID_SALT``, or one generated once under ``var/``."""
    if os.environ.get("MEDAI_DEID_SALT"):
        return os.environ["MEDAI_DEID_SALT"].encode()
    path = Path(os.environ.get("MEDAI_DEID_SALT_FILE", config.REPO_ROOT / "var" / "deid-salt"))
    if not path.is_file():
        config.private_folder(path.parent)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def replace_uid(uid: str, key: bytes) -> str:
    """A consistent, irreversible stand-in for ``uid``: ``2.25.`` and 128 bits of its keyed hash."""
    digest = hmac.new(key, str(uid).strip().encode(), hashlib.sha256).digest()
    return f"2.25.{int.from_bytes(digest[:16], 'big')}"


def shift_days(patient_id: str, key: bytes) -> int:
    """Days (1 to ``MAX_SHIFT_DAYS``, backwards) by which one patient's dates move."""
    digest = hmac.new(key, b"date-shift:" + patient_id.strip().encode(), hashlib.sha256).digest()
    return -(1 + int.from_bytes(digest[:4], "big") % MAX_SHIFT_DAYS)


def deidentify(dataset: Dataset, key: bytes | None = None) -> Report:
    """De-identify ``dataset`` in place (file meta included) and say what was done.

    Parameters
    ----------
    dataset : pydicom.Dataset
        As read; it is changed in place.
    key : bytes, optional
        The salt; :func:`salt` by default.

    Returns
    -------
    Report
        How many elements each action touched.
    """
    key = salt() if key is None else key
    days = shift_days(str(dataset.get("PatientID", "") or ""), key)
    counts = dict.fromkeys(("removed", "emptied", "dummied", "uids_replaced", "dates_shifted"), 0)
    private = _remove_private(dataset)
    _walk(dataset, key, days, counts)
    if getattr(dataset, "file_meta", None) is not None:
        _walk(dataset.file_meta, key, days, counts)
    dataset.PatientIdentityRemoved = "YES"
    dataset.DeidentificationMethod = METHOD
    dataset.LongitudinalTemporalInformationModified = "MODIFIED"
    dataset.DeidentificationMethodCodeSequence = [_code(value, meaning) for value, meaning in METHOD_CODES]
    return Report(**counts, private_removed=private, shift_days=days)


def deidentified_bytes(dataset: Dataset) -> bytes:
    """The (already de-identified) dataset as a DICOM Part 10 file, in memory."""
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def keep(dataset: Dataset, folder: Path | None = None) -> Path:
    """Write the de-identified dataset as ``<sha256>.dcm`` under ``folder`` (never the original).

    The folder is ``MEDAI_DEIDENTIFIED_DIR`` or ``var/deidentified``; callers decide whether to keep
    at all (``MEDAI_KEEP_DEIDENTIFIED=1``).
    """
    folder = Path(folder or os.environ.get("MEDAI_DEIDENTIFIED_DIR", config.REPO_ROOT / "var" / "deidentified"))
    config.private_folder(folder)  # text burned into pixels is not removed: readable by the server's user only
    data = deidentified_bytes(dataset)
    path = folder / f"{hashlib.sha256(data).hexdigest()}.dcm"
    config.write_private(path, data)
    return path


def keep_enabled() -> bool:
    """Whether de-identified DICOM files are kept (``MEDAI_KEEP_DEIDENTIFIED=1``; off by default)."""
    return os.environ.get("MEDAI_KEEP_DEIDENTIFIED", "").strip().lower() in config.SWITCH_ON


def _remove_private(dataset: Dataset) -> int:
    count = 0
    for element in list(dataset):
        if element.tag.is_private:
            del dataset[element.tag]
            count += 1
        elif element.VR == "SQ":
            count += sum(_remove_private(item) for item in element.value)
    return count


def _walk(dataset: Dataset, key: bytes, days: int, counts: dict[str, int]) -> None:
    for element in list(dataset):
        tag, vr = element.tag, element.VR
        if _is_curve_or_overlay_text(tag):
            del dataset[tag]
            counts["removed"] += 1
            continue
        action = ACTIONS.get(BASIC_PROFILE.get(int(tag), ""), "")
        if action == "remove":
            del dataset[tag]
            counts["removed"] += 1
        elif vr in ("DA", "DT") and (action or tag == 0x00100030):
            if tag == 0x00100030 or not _shift(element, days):  # birth date, or an unreadable date
                element.value = ""
                counts["emptied"] += 1
            else:
                counts["dates_shifted"] += 1
        elif vr == "UI" and (action or _is_instance_uid(element.value)):
            element.value = _uids(element.value, key)
            counts["uids_replaced"] += 1
        elif action == "empty" or (action and vr in ("TM", "SQ")):
            element.value = [] if vr == "SQ" else ("" if vr not in NUMERIC_VRS else None)
            counts["emptied"] += 1
        elif action == "dummy":
            element.value = (b"" if vr in ("OB", "OW", "UN")
                             else NUMERIC_VRS.get(vr, DUMMY_TEXT.get(vr, "REMOVED")))
            counts["dummied"] += 1
        elif vr == "SQ":
            for item in element.value:
                _walk(item, key, days, counts)


def _is_curve_or_overlay_text(tag) -> bool:
    group = tag.group
    return 0x5000 <= group <= 0x50FF or (0x6000 <= group <= 0x60FF and tag.element in (0x3000, 0x4000))


def _is_instance_uid(value) -> bool:
    """Whether a UI value is an instance UID (anything but a registered DICOM UID)."""
    values = value if isinstance(value, (list, pydicom.multival.MultiValue)) else [value]
    return any(str(v) and str(v) not in UID_dictionary for v in values)


def _uids(value, key: bytes):
    if isinstance(value, (list, pydicom.multival.MultiValue)):
        return [replace_uid(v, key) if str(v) not in UID_dictionary else v for v in value]
    return replace_uid(value, key) if str(value) not in UID_dictionary else value


def _shift(element, days: int) -> bool:
    """Move a DA/DT value by ``days``; ``False`` when it cannot be read as a date."""
    values = element.value if isinstance(element.value, (list, pydicom.multival.MultiValue)) else [element.value]
    shifted = []
    for value in values:
        text = str(value or "").strip()
        if not text:
            shifted.append("")
            continue
        try:
            day = datetime.strptime(text[:8], "%Y%m%d").date() + timedelta(days=days)
        except ValueError:
            return False
        shifted.append(day.strftime("%Y%m%d") + (text[8:] if element.VR == "DT" else ""))
    element.value = shifted if len(shifted) > 1 else shifted[0]
    return True


def _code(value: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "DCM", meaning
    return item


__all__ = ["ACTIONS", "BASIC_PROFILE", "Report", "deidentified_bytes", "deidentify", "keep",
           "keep_enabled", "replace_uid", "salt", "shift_days"]
