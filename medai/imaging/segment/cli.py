"""``python -m medai segment``: images in, one folder of mask PNGs per image and a measurements CSV out.

Exit codes (as for ``diagnose``): 0 every input segmented or refused; 1 at least one input could not be
read or written (``status`` ``error``); 2 the command itself cannot run (unknown or non-segmentation
model, no inputs, an output folder that cannot be written), with one line on standard error.
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import sys
from pathlib import Path

from medai.errors import MedAIError

log = logging.getLogger(__name__)
CSV_NAME = "measurements.csv"
SEG_NAME = "segmentation.dcm"
EXTRA_COLUMNS = ("mask_dir",)
LAYOUT = (
    "Writes OUTDIR/<input file stem>/<structure>.png for every structure of the model (single-channel "
    "8-bit PNG, 0 or 255, at the input image's exact width and height) and OUTDIR/measurements.csv (one "
    "row per image and structure; an input that was refused or could not be read gets one row with its "
    "status and message, and no PNGs). When two inputs share a file stem, the second gets <stem>-2, the "
    "third <stem>-3, and so on; the CSV's mask_dir column names each input's folder.")


class FolderNames:
    """Hands out one output folder name per input stem, ``<stem>-2``, ``<stem>-3``… on repeats, never one
    that is a symbolic link already in ``root`` (it would write the masks wherever it points)."""

    def __init__(self, reserved: tuple[str, ...] = (CSV_NAME,), root: Path | None = None):
        self._taken, self.root = set(reserved), root

    def claim(self, stem: str) -> str:
        """A name not handed out before in this run, built from ``stem`` without leading dots (the stem of
        ``...png`` is ``..``, the output folder's parent)."""
        base = stem.lstrip(".") or "image"
        name, number = base, 1
        while name in self._taken or (self.root is not None and (self.root / name).is_symlink()):
            number += 1
            name = f"{base}-{number}"
        self._taken.add(name)
        return name


def _output_folder(argument: str) -> Path:
    """The output folder, created if needed; a MedAIError if it cannot be written."""
    folder = Path(argument)
    if folder.exists() and not folder.is_dir():
        raise MedAIError("--output names a file; give a folder for the masks and measurements.csv.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MedAIError("The output folder cannot be created; choose another --output.") from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        raise MedAIError("The output folder cannot be written (permissions); choose another --output.")
    return folder


def _write_masks(folder: Path, outcome, data: bytes, want_seg: bool) -> str | None:
    """Write every mask PNG (and the DICOM SEG when asked); returns a note when the SEG was not made."""
    from medai.imaging.segment.export import dicom_seg, mask_png, outcome_masks

    masks = outcome_masks(outcome)  # the original size, the validated thresholds
    folder.mkdir(exist_ok=True)
    for structure, mask in masks.items():
        (folder / f"{structure}.png").write_bytes(mask_png(mask))
    if not (want_seg and outcome.image.format == "dicom"):
        return None
    try:
        (folder / SEG_NAME).write_bytes(dicom_seg(data, masks, model_name=outcome.model_name,
                                                  model_version=outcome.model_version))
    except MedAIError as exc:
        return f"No DICOM SEG: {exc}"
    return None


def _segment_one(path: str, data: bytes, args: argparse.Namespace, store):
    """``service.segment`` for one input; an unexpected failure inside the model becomes an error outcome."""
    from medai import registry
    from medai.imaging.segment.service import SegmentOutcome, segment

    try:
        return segment([(path, data)], args.model, user=args.user, source="cli", store=store)[0]
    except MedAIError:
        raise
    except Exception as exc:  # one input's failure costs its row, never the batch
        log.warning("unexpected %s while segmenting an input", type(exc).__name__)
        spec = registry.get_spec(args.model)
        return SegmentOutcome(path, "error", "The image could not be segmented (an internal error).",
                              spec.name, spec.version)


def run_segment(args: argparse.Namespace) -> int:
    """Segment every input, write its masks and its CSV rows in input order, return the exit code."""
    from dataclasses import replace

    from tqdm import tqdm

    from medai import registry
    from medai.cli import EXIT_OK, EXIT_ROW_ERRORS, _read, expand_inputs
    from medai.imaging.segment import segmentation_spec

    spec = segmentation_spec(args.model)
    paths = expand_inputs(args.inputs)
    if not paths:
        raise MedAIError("No images found in the given files or folders (PNG, JPEG or DICOM).")
    root = _output_folder(args.output)
    from medai.imaging.segment.export import MEASUREMENT_COLUMNS, measurement_rows  # TensorFlow: after the checks
    from medai.imaging.segment.service import SegmentOutcome, models_that_take
    from medai.store import AuditStore

    registry.load(args.model)  # damaged weights stop the command before anything is written
    store = None if args.no_audit else AuditStore()
    names, errors, seg_notes = FolderNames(root=root), 0, 0
    try:
        output = open(root / CSV_NAME, "w", newline="", encoding="utf-8")
    except OSError as exc:
        raise MedAIError(f"{root / CSV_NAME} cannot be written; choose another --output.") from exc
    with output, tqdm(total=len(paths), unit="image", file=sys.stderr, disable=args.quiet) as progress:
        writer = csv.DictWriter(output, fieldnames=[*MEASUREMENT_COLUMNS, *EXTRA_COLUMNS])
        writer.writeheader()
        for path in paths:
            data = _read(path)
            if isinstance(data, bytes):
                outcome = _segment_one(path, data, args, store)
            else:
                outcome = SegmentOutcome(path, "error", str(data), spec.name, spec.version)
            folder = ""
            if outcome.status == "refused" and isinstance(data, bytes):
                takers = models_that_take(data, args.model, load_others=True)
                if takers:  # the page names them too
                    outcome = replace(outcome, message=f"{outcome.message} It looks like what {' or '.join(takers)} "
                                                       f"reads: run again with --model {takers[0]}.")
            if outcome.status == "ok":
                folder = names.claim(Path(path).stem)
                try:
                    note = _write_masks(root / folder, outcome, data, args.dicom_seg)
                except OSError:
                    outcome, folder = replace(outcome, status="error", message=(
                        "The masks could not be written to the output folder (disk full or permissions).")), ""
                else:
                    if note:
                        seg_notes += 1
                        outcome = replace(outcome, message=f"{outcome.message} {note}")
            errors += outcome.status == "error"
            for row in measurement_rows(outcome):
                writer.writerow({**row, "mask_dir": folder})
            output.flush()
            progress.update(1)
    if seg_notes:
        print(f"{seg_notes} DICOM SEG files could not be made; see the 'message' column.", file=sys.stderr)
    if errors:
        print(f"{errors} of {len(paths)} inputs could not be segmented; see the 'message' column.", file=sys.stderr)
    return EXIT_ROW_ERRORS if errors else EXIT_OK


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``segment`` on the ``python -m medai`` parser."""
    command = commands.add_parser(
        "segment", help="segment images (PNG, JPEG, DICOM) into mask PNGs and a measurements CSV",
        description=f"Segment images with a shipped segmentation model (research use only). {LAYOUT}")
    command.add_argument("inputs", nargs="+", metavar="FILE_OR_DIR",
                         help="image files, or folders searched recursively for .png/.jpg/.jpeg/.dcm/.dicom "
                              "and extension-less files")
    command.add_argument("--model", default="cxr-lungs",
                         help="segmentation model: cxr-lungs, colon-polyp or retina-vessels (see 'models')")
    command.add_argument("--output", "-o", required=True, metavar="OUTDIR",
                         help="folder for <stem>/<structure>.png and measurements.csv (created if missing); "
                              "a repeated stem gets <stem>-2, <stem>-3, ...")
    command.add_argument("--dicom-seg", action="store_true",
                         help=f"also write OUTDIR/<stem>/{SEG_NAME} (DICOM Segmentation) for DICOM inputs")
    command.add_argument("--user", default=os.environ.get("USER", "cli"), help="name for the audit trail")
    command.add_argument("--no-audit", action="store_true", help="do not record segmentations in the audit store")
    command.add_argument("--quiet", action="store_true", help="no progress bar")
    command.set_defaults(run=run_segment)
