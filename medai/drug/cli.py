"""``python -m medai screen`` and ``python -m medai optimize``: molecules in, one CSV row each out.

Exit codes: 0 the input was read (invalid molecules are rows with ``valid`` false); 2 the input or
the output cannot be used at all, with one line on standard error.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

from medai.errors import InputError

EXIT_OK, EXIT_FAILED = 0, 2


def _read_input(argument: str) -> tuple[list, bytes]:
    from medai.drug.io import MAX_INPUT_BYTES, read_molecules

    path = Path(argument)
    if not path.is_file():
        raise InputError(f"No such input file: {argument}.")
    if path.stat().st_size > MAX_INPUT_BYTES:
        raise InputError(f"The input is larger than {MAX_INPUT_BYTES // 2**20} MB.")
    data = path.read_bytes()
    return read_molecules(data, path.name), data


def _open_output(output: str):
    from medai.cli import check_output_path

    check_output_path(output)
    return sys.stdout if output == "-" else open(output, "w", newline="", encoding="utf-8")


def _store(args: argparse.Namespace):
    from medai.store import AuditStore

    return None if args.no_audit else AuditStore()


def run_screen(args: argparse.Namespace) -> int:
    """Screen every molecule of INPUT into a CSV, in input order."""
    from tqdm import tqdm

    from medai.drug.service import screen

    molecules, _ = _read_input(args.input)
    if not molecules:
        raise InputError("The input holds no molecules.")
    output = _open_output(args.output)
    try:
        with tqdm(total=len(molecules), unit="mol", disable=args.quiet, file=sys.stderr) as bar:
            result = screen(molecules, user=args.user, source="cli", store=_store(args), progress=bar.update)
        columns = result.columns  # built once: a property that asks the registry
        writer = csv.DictWriter(output, fieldnames=columns)
        writer.writeheader()
        for molecule in result.molecules:
            writer.writerow(molecule.row(columns))
    finally:
        if output is not sys.stdout:
            output.close()
    invalid = sum(not m.valid for m in result.molecules)
    if invalid:
        print(f"{invalid} of {len(molecules)} molecules are invalid; see the 'message' column.", file=sys.stderr)
    return EXIT_OK


def run_optimize(args: argparse.Namespace) -> int:
    """Propose, screen and rank analogues of a lead SMILES."""
    from medai.drug.lead import OBJECTIVES, optimize

    if Path(args.smiles).is_file():  # a likely slip: the lead is one SMILES, not a molecule file
        raise InputError(f"optimize takes one lead SMILES, not a file: screen {args.smiles} first "
                         "(python -m medai screen FILE) and pass the chosen row's canonical_smiles.")
    weights = dict(zip(OBJECTIVES, args.weights)) if args.weights else None
    output = _open_output(args.output)
    try:
        lead, ranked = optimize(args.smiles, args.n, weights, args.min_similarity, args.seed, user=args.user,
                                source="cli", store=_store(args))
        if not lead.valid:
            raise InputError(f"The lead is not a valid molecule: {lead.message}")
        rows = [item.row() for item in ranked]
        writer = csv.DictWriter(output, fieldnames=list(rows[0]) if rows else ["smiles"])
        writer.writeheader()
        writer.writerows(rows)
    finally:
        if output is not sys.stdout:
            output.close()
    if not ranked:
        print("No analogue passed the similarity and alert filters.", file=sys.stderr)
    return EXIT_OK


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``screen`` and ``optimize`` on the ``python -m medai`` parser."""
    user = os.environ.get("USER", "cli")
    screen = commands.add_parser("screen", help="screen molecules (CSV with a smiles column, .smi, SDF) into a CSV")
    screen.add_argument("input", metavar="INPUT")
    screen.add_argument("--output", "-o", default="-", help="CSV file to write ('-' = standard output)")
    screen.add_argument("--user", default=user, help="name for the audit trail")
    screen.add_argument("--no-audit", action="store_true", help="do not record the screen in the audit store")
    screen.add_argument("--quiet", action="store_true", help="no progress bar")
    screen.set_defaults(run=run_screen)

    optimize = commands.add_parser("optimize", help="propose and rank better analogues of a lead SMILES")
    optimize.add_argument("smiles", metavar="SMILES")
    optimize.add_argument("--n", type=int, default=20, help="analogues to keep (best first)")
    optimize.add_argument("--min-similarity", type=float, default=0.4, help="Tanimoto bound to the lead (0-1)")
    optimize.add_argument("--weights", type=float, nargs=4, default=None,
                          metavar=("ACTIVITY", "SOLUBILITY", "SAFETY", "QED"),
                          help="objective weights (default 1 each, but BACE-1 activity 0 for a lead outside "
                               "drug-bace's domain)")
    optimize.add_argument("--seed", type=int, default=0, help="seeds BRICS partner sampling")
    optimize.add_argument("--output", "-o", default="-", help="CSV file to write ('-' = standard output)")
    optimize.add_argument("--user", default=user, help="name for the audit trail")
    optimize.add_argument("--no-audit", action="store_true", help="do not record in the audit store")
    optimize.set_defaults(run=run_optimize)
