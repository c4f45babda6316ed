"""``python -m medai``: batch diagnosis and segmentation, drug screening and optimisation, model listing,
cards and training.

Exit codes: 0 all rows fine (``ok`` or ``refused``); 1 at least one row is ``error``; 2 the command
itself could not run (bad arguments, an output that cannot be written, no images found, unknown
model, damaged weights), with one line on standard error.
"""

from __future__ import annotations

import argparse
import csv
import inspect
import json
import os
import sys
from pathlib import Path
from typing import Iterator, Sequence, TextIO

from medai import config
from medai.downloads import DATASETS as DOWNLOADS  # names only: no domain is imported until one is fetched
from medai.drug.cli import add_commands as add_drug_commands
from medai.store.cli import add_commands as add_store_commands
from medai.timeline.cli import add_commands as add_timeline_commands
from medai.errors import MedAIError
from medai.imaging.io import check_byte_count
from medai.imaging.segment.cli import add_commands as add_segment_commands

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".dcm", ".dicom", ""}
CHUNK = 32
EXIT_OK, EXIT_ROW_ERRORS, EXIT_FAILED = 0, 1, 2


def expand_inputs(arguments: Sequence[str]) -> list[str]:
    """Files named directly, plus image files found (recursively, sorted) in named folders.

    In a folder only names ending in .png/.jpg/.jpeg/.dcm/.dicom, or with no extension (as DICOM
    files often have), are taken, and hidden files are skipped; the others are named on standard
    error, so that none goes unsaid. A file named directly is always taken. Every path keeps the
    form it was given in.
    """
    paths: list[str] = []
    skipped: list[str] = []
    for argument in arguments:
        if os.path.isdir(argument):
            for root, folders, files in os.walk(argument):
                folders[:] = sorted(f for f in folders if not f.startswith("."))
                for name in sorted(files):
                    taken = not name.startswith(".") and Path(name).suffix.lower() in IMAGE_SUFFIXES
                    (paths if taken else skipped).append(os.path.join(root, name))
        else:
            paths.append(argument)
    shown = [path for path in skipped if not Path(path).name.startswith(".")]
    if shown and paths:  # with no image at all, the caller's one-line error says so
        print(f"Skipped {len(shown)} file{'s' * (len(shown) > 1)} in the folders not named as images "
              f"(.png, .jpg, .jpeg, .dcm, .dicom or no extension): {', '.join(shown[:5])}"
              + (" …" if len(shown) > 5 else "") + ".", file=sys.stderr)
    return paths


def _read(path: str) -> bytes | MedAIError:
    """The file's bytes, or the error to report in its row (size checked before reading)."""
    try:
        check_byte_count(os.path.getsize(path))
        with open(path, "rb") as handle:
            return handle.read()
    except MedAIError as exc:
        return exc
    except FileNotFoundError:
        return MedAIError("No such file.")
    except OSError:
        return MedAIError("The file cannot be opened (permissions, or not a regular file).")


def check_output_path(output: str) -> None:
    """Refuse, before any work, an output file that cannot be created (``-`` is standard output).

    Raises
    ------
    MedAIError
        The folder does not exist or is not writable, or the name is a folder.
    """
    if output == "-":
        return
    target = Path(output)
    folder = target.parent
    if not folder.is_dir():
        raise MedAIError("The folder for the output CSV does not exist; create it or choose another --output.")
    if target.is_dir():
        raise MedAIError("The output name is a folder; give a file name ending in .csv.")
    if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise MedAIError("The output CSV cannot be written there (permissions); choose another --output.")


def open_output(output: str) -> TextIO:
    """The output CSV opened for writing (standard output for ``-``).

    Raises
    ------
    MedAIError
        As :func:`check_output_path`, or the file cannot be created even so (a race with the checks, a
        full or read-only disk).
    """
    check_output_path(output)
    if output == "-":
        return sys.stdout
    try:
        return open(output, "w", newline="", encoding="utf-8")
    except OSError as exc:
        raise MedAIError("The output CSV cannot be created; choose another --output.") from exc


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def run_diagnose(args: argparse.Namespace) -> int:
    """Diagnose every input, write one CSV row per input in input order, return the exit code."""
    from tqdm import tqdm

    from medai.imaging.explain import heatmap_png
    from medai.imaging.service import DiagnoseOutcome, classifier_spec, csv_columns, diagnose
    from medai.store import AuditStore

    spec = classifier_spec(args.model)
    check_output_path(args.output)
    paths = expand_inputs(args.inputs)
    if not paths:
        raise MedAIError("No images found in the given files or folders (PNG, JPEG or DICOM).")
    if args.heatmaps:
        try:  # the folder itself may be new, not its parents: a typo must not build a tree (as --output)
            Path(args.heatmaps).mkdir(exist_ok=True)
        except OSError as exc:
            raise MedAIError("The --heatmaps folder cannot be created (its parent folder must exist); "
                             "choose another.") from exc
    store = None if args.no_audit else AuditStore()
    output = open_output(args.output)
    errors = 0
    try:
        writer = csv.DictWriter(output, fieldnames=csv_columns(spec.labels))
        writer.writeheader()
        with tqdm(total=len(paths), unit="image", file=sys.stderr, disable=args.quiet) as progress:
            for chunk_number, chunk in enumerate(_chunks(paths, CHUNK)):
                contents = [(path, _read(path)) for path in chunk]
                readable = [(path, data) for path, data in contents if isinstance(data, bytes)]
                answered = iter(diagnose(readable, args.model, user=args.user, source="cli", store=store,
                                         explain=bool(args.heatmaps)))
                for offset, (path, data) in enumerate(contents):
                    if isinstance(data, bytes):
                        outcome = next(answered)
                    else:
                        outcome = DiagnoseOutcome(path, "error", str(data), spec.name, spec.version)
                    errors += outcome.status == "error"
                    writer.writerow(outcome.row(spec.labels))
                    if args.heatmaps and outcome.diagnosis is not None and outcome.diagnosis.heatmap is not None:
                        name = f"{chunk_number * CHUNK + offset:05d}_{Path(path).stem}_gradcam.png"
                        Path(args.heatmaps, name).write_bytes(heatmap_png(outcome.diagnosis.heatmap, outcome.image.full_shape))
                output.flush()
                progress.update(len(chunk))
    finally:
        if output is not sys.stdout:
            output.close()
    if errors:
        print(f"{errors} of {len(paths)} inputs could not be diagnosed; see the 'message' column.", file=sys.stderr)
    return EXIT_ROW_ERRORS if errors else EXIT_OK


def run_models(args: argparse.Namespace) -> int:
    """Print one line per registered model."""
    from medai import registry

    for name in registry.names():
        spec = registry.get_spec(name)
        print(f"{spec.name}\t{spec.version}\t{spec.task}\t{', '.join(spec.labels)}")
    return EXIT_OK


def run_card(args: argparse.Namespace) -> int:
    """Print a model card as JSON."""
    from medai import registry

    print(json.dumps(registry.card(args.name), indent=2))
    return EXIT_OK


def run_train(args: argparse.Namespace) -> int:
    """Retrain a model on the CPU from ``MEDAI_DATA_DIR`` with the trainer its spec names."""
    from medai import registry

    spec = registry.get_spec(args.name)
    if not spec.trainer:
        raise MedAIError(f"Model '{args.name}' has no training recipe.")
    options = {key: value for key, value in (("members", args.members), ("epochs", args.epochs),
                                             ("reuse_members", args.reuse_members or None),
                                             ("extra_data", args.extra_data)) if value is not None}
    trainer = registry.resolve(spec.trainer)
    accepted = inspect.signature(trainer).parameters
    for option in options:
        if option not in accepted:
            raise MedAIError(f"Model '{args.name}' does not take --{option.replace('_', '-')}.")
    if args.extra_data is not None and not args.extra_data.is_dir():
        raise MedAIError(f"--extra-data {args.extra_data} is not a folder.")
    card = trainer(registry.models_dir() / args.name, **options)
    print(json.dumps(card["metrics"]["validation"], indent=2))
    return EXIT_OK


def run_download(args: argparse.Namespace) -> int:
    """Fetch a public training dataset under --to; print each file's SHA-256."""
    from medai.downloads import download

    for name, digest in download(args.name, args.to).items():
        print(f"{digest}  {name}")
    return EXIT_OK


class _ShowDefaults(argparse.ArgumentDefaultsHelpFormatter):
    """Help that states an option's default, when it has one worth stating (not None, not a switch's False)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or isinstance(action.default, bool):
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m medai``."""
    parser = argparse.ArgumentParser(prog="python -m medai", description="MedAI Workbench (research use only).")
    commands = parser.add_subparsers(dest="command", required=True)

    diagnose = commands.add_parser(
        "diagnose", help="diagnose images (PNG, JPEG, DICOM) into a CSV",
        description="Diagnose images into a CSV, one row per image (a folder is read recursively): file, "
                    "p_<label> for each of the model's labels (calibrated probabilities), label, uncertainty, status "
                    "(ok; refused: not an image the model knows, with why; error: cannot be read), message, "
                    "threshold, model, model_version, input_sha256, heat_in_lungs (with --heatmaps only). Exit "
                    "codes: 0 every row ok or refused; 1 at least one error row; 2 nothing could run (one line on "
                    "stderr).")
    diagnose.add_argument("inputs", nargs="+", metavar="FILE_OR_DIR", help="image files or folders of them")
    diagnose.add_argument("--model", default="cxr-pneumonia", help="registry name (see 'models')")
    diagnose.add_argument("--output", "-o", default="-", help="CSV file to write ('-' = standard output)")
    diagnose.add_argument("--user", default=os.environ.get("USER", "cli"), help="name for the audit trail")
    diagnose.add_argument("--no-audit", action="store_true", help="do not record predictions in the audit store")
    diagnose.add_argument("--heatmaps", metavar="DIR", help="also write each Grad-CAM heat map as a 16-bit PNG, and fill "
                          "heat_in_lungs (no heat map is made without it: faster)")
    diagnose.add_argument("--quiet", action="store_true", help="no progress bar")
    diagnose.set_defaults(run=run_diagnose)

    add_segment_commands(commands)
    add_drug_commands(commands)
    add_timeline_commands(commands)
    add_store_commands(commands)

    models = commands.add_parser("models", help="list the shipped models")
    models.set_defaults(run=run_models)

    card = commands.add_parser("card", help="print a model card (JSON)")
    card.add_argument("name")
    card.set_defaults(run=run_card)

    train = commands.add_parser("train", help="retrain a model on the CPU")
    train.add_argument("name")
    train.add_argument("--members", type=int, help="ensemble members (default: the recipe's)")
    train.add_argument("--epochs", type=int, help="epochs per member (default: the recipe's)")
    train.add_argument("--reuse-members", action="store_true", help="keep trained members; refit the rest")
    train.add_argument("--extra-data", type=Path, metavar="EXPORT",
                       help="a folder written by 'export-feedback': reviewed images join the training split")
    train.set_defaults(run=run_train)

    download = commands.add_parser(
        "download", help="fetch a public training dataset (needs a network; nothing else downloads)",
        description="Fetch a public training dataset and lay it out as MEDAI_DATA_DIR is read; prints each "
                    "file's SHA-256. The upstream copies are whole: keep any held-out portion of yours apart.")
    download.add_argument("name", choices=sorted(DOWNLOADS))
    download.add_argument("--to", type=Path, default=config.data_dir(), help="data folder to fill")
    download.set_defaults(run=run_download)
    _show_defaults(parser)
    return parser


def _show_defaults(parser: argparse.ArgumentParser) -> None:
    """Every sub-command's help (``timeline risk`` too) states the defaults (:class:`_ShowDefaults`)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                command.formatter_class = _ShowDefaults
                _show_defaults(command)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code instead of raising."""
    args = build_parser().parse_args(argv)
    if problems := config.problems():  # a mistyped setting is named now, not met as a failed input
        print("error: " + " ".join(problems), file=sys.stderr)
        return EXIT_FAILED
    try:
        return args.run(args)
    except MedAIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
