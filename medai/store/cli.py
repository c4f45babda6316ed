"""``python -m medai export-feedback``: reviewed predictions → a folder ``train --extra-data`` reads.

Classifier feedback becomes ``train_224/<LABEL>/`` images; segmentation feedback (overrides with a
corrected mask) becomes ``images/`` + ``masks/<structure>/`` + ``index.csv``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from medai.errors import MedAIError


def run_export_feedback(args: argparse.Namespace) -> int:
    """Write the feedback export (CSV) and the matching images in the trainer's layout; record the export."""
    from medai import registry
    from medai.spreadsheet import to_spreadsheet_csv
    from medai.store import AuditStore
    from medai.store.reports import feedback_dataset, write_training_folder

    if not args.images.is_dir():
        raise MedAIError(f"--images {args.images} is not a folder.")
    store = AuditStore()
    spec = registry.get_spec(args.model)
    if spec.task == "image-segmentation":
        return _export_masks(store, args, spec.labels)
    export = feedback_dataset(store, args.model)
    if export.empty:
        raise MedAIError(f"No reviewed predictions of '{args.model}' in the audit store.")
    try:
        args.output.mkdir(parents=True, exist_ok=True)
        (args.output / "feedback.csv").write_text(to_spreadsheet_csv(export), encoding="utf-8")
    except OSError as exc:
        raise MedAIError("The --output folder cannot be written; choose another.") from exc
    unknown = int((~export["label"].isin(spec.labels)).sum())
    if unknown:
        print(f"{unknown} reviewed prediction(s) name a label {args.model} does not have "
              f"({', '.join(spec.labels)}): their images are left out.", file=sys.stderr)
    written = write_training_folder(export, args.images, args.output, spec.labels)
    store.record_event("export.feedback", user=args.user,
                       details={"model": args.model, "rows": len(export), "images_written": sum(written.values())})
    counts = ", ".join(f"{label}: {count}" for label, count in sorted(written.items())) or "none"
    print(f"{len(export)} reviewed predictions; images matched and written by label: {counts}.")
    if not written:
        raise MedAIError("None of the files under --images matches a reviewed prediction (matched by SHA-256).")
    print(f"Retrain with: python -m medai train {args.model} --extra-data {args.output}")
    return 0


def _export_masks(store, args: argparse.Namespace, structures: tuple[str, ...]) -> int:
    """The segmentation export: corrected masks with their images, in the dataset layout."""
    from medai.store.mask_export import corrected_masks, write_mask_folder

    masks = corrected_masks(store, args.model)
    if not masks:
        raise MedAIError(f"No override of '{args.model}' carries a corrected mask.")
    try:
        written = write_mask_folder(masks, args.images, args.output, tuple(structures))
    except OSError as exc:
        raise MedAIError("The --output folder cannot be written; choose another.") from exc
    store.record_event("export.feedback", user=args.user,
                       details={"model": args.model, "rows": len(masks), "images_written": written})
    print(f"{len(masks)} inputs with corrected masks; images matched and written: {written}.")
    if not written:
        raise MedAIError("None of the files under --images matches a corrected segmentation (matched by SHA-256).")
    print(f"Retrain with: python -m medai train {args.model} --extra-data {args.output}")
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``export-feedback`` on the ``python -m medai`` parser."""
    export = commands.add_parser(
        "export-feedback", help="reviewed predictions + the original files → a training folder for --extra-data")
    export.add_argument("--model", default="cxr-pneumonia", help="registry name whose feedback to export (a classifier or a segmentation model)")
    export.add_argument("--images", type=Path, required=True,
                        help="folder holding the files that were uploaded (matched by SHA-256; the store keeps none)")
    export.add_argument("--output", type=Path, required=True, help="folder to write (feedback.csv, train_224/)")
    export.add_argument("--user", default=os.environ.get("USER", "cli"), help="name for the audit log")
    export.set_defaults(run=run_export_feedback)
