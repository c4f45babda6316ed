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
from typing import TYPE_CHECKING

from medai.errors import InputError

if TYPE_CHECKING:
    from medai.drug.io import MoleculeInput

EXIT_OK, EXIT_FAILED = 0, 2


def _read_input(argument: str) -> list[MoleculeInput]:
    from medai.drug.io import MAX_INPUT_BYTES, read_molecules

    path = Path(argument)
    if path.is_dir():
        raise InputError(f"{argument} is a folder: screen takes one file (CSV, .smi or SD file).")
    if not path.is_file():
        raise InputError(f"No such input file: {argument}.")
    if path.stat().st_size > MAX_INPUT_BYTES:
        raise InputError(f"The input is larger than {MAX_INPUT_BYTES // 2**20} MB.")
    return read_molecules(path.read_bytes(), path.name)


def _store(args: argparse.Namespace):
    from medai.store import AuditStore

    return None if args.no_audit else AuditStore()


def run_screen(args: argparse.Namespace) -> int:
    """Screen every molecule of INPUT into a CSV, in input order."""
    from tqdm import tqdm

    from medai.cli import open_output
    from medai.drug.service import screen

    molecules = _read_input(args.input)
    if not molecules:
        raise InputError("The input holds no molecules.")
    output = open_output(args.output)
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


def _is_file(text: str) -> bool:
    """Whether ``text`` names an existing file (a SMILES longer than a file name can be is not one)."""
    try:
        return Path(text).is_file()
    except OSError:
        return False


def run_optimize(args: argparse.Namespace) -> int:
    """Propose, screen and rank analogues of a lead SMILES."""
    from tqdm import tqdm

    from medai.cli import open_output
    from medai.drug.lead import ANALOGUE_COLUMNS, OBJECTIVES, optimize

    if _is_file(args.smiles):  # a likely slip: the lead is one SMILES, not a molecule file
        raise InputError(f"optimize takes one lead SMILES, not a file: screen {args.smiles} first "
                         "(python -m medai screen FILE) and pass the chosen row's canonical_smiles.")
    weights = dict(zip(OBJECTIVES, args.weights)) if args.weights else None
    output = open_output(args.output)  # before the work: an unwritable path fails at once
    try:
        with tqdm(unit="molecule", desc="screening the lead and its analogues", file=sys.stderr,
                  disable=args.quiet) as bar:

            def planned(total: int) -> None:  # the analogues are counted only once proposed
                bar.total = total
                bar.refresh()

            lead, ranked = optimize(args.smiles, args.n, weights, args.min_similarity, args.seed, user=args.user,
                                    source="cli", store=_store(args), progress=bar.update, planned=planned)
        if not lead.valid:
            raise InputError(f"The lead is not a valid molecule: {lead.message}")
        writer = csv.DictWriter(output, fieldnames=ANALOGUE_COLUMNS)  # the whole header, even with no analogue
        writer.writeheader()
        writer.writerows(item.row() for item in ranked)
    except BaseException:
        if output is not sys.stdout:  # no empty file is left to be taken for a result
            output.close()
            Path(args.output).unlink(missing_ok=True)
        raise
    if output is not sys.stdout:
        output.close()
    if not ranked:
        print("No analogue passed the similarity and alert filters.", file=sys.stderr)
    elif len(ranked) < args.n:
        print(f"Kept {len(ranked)} of the {args.n} asked for: no more analogues passed the similarity and alert "
              "filters.", file=sys.stderr)
    return EXIT_OK


def _at_least_one(text: str) -> int:
    """argparse type: a whole number ≥ 1."""
    if not text.lstrip("+").isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return int(text)


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``screen`` and ``optimize`` on the ``python -m medai`` parser."""
    user = os.environ.get("USER", "cli")
    screen = commands.add_parser(
        "screen", help="screen molecules (CSV with a smiles column, .smi, SDF) into a CSV",
        description="Screen molecules into a CSV: one row per input molecule, in input order: id, smiles (as given), "
                    "canonical_smiles, valid, message (why a molecule is invalid, alerts named, what standardisation "
                    "changed), the descriptors and rules (mw, clogp, tpsa, hbd, hba, rotatable_bonds, qed, sa_score, "
                    "lipinski_violations, veber_violations, pains_alerts, brenk_alerts, alerts), the predictions (logS, "
                    "logD, tox21_<task> for the 12 Tox21 tasks, bbb_penetration, clinical_toxicity, bace1_active: "
                    "probabilities for the classifications), each with <column>_std, then tox21_max (the highest Tox21 "
                    "probability), nearest_train_similarity (of the strictest model), in_domain (inside every model's "
                    "domain), models_in_domain (e.g. '5 of 6'), <column>_approved_pct (percentile among approved "
                    "drugs), and the input's other columns. Exit codes: 0 written (an invalid molecule is a row with "
                    "valid false); 2 the input cannot be read at all (one line on stderr).")
    screen.add_argument("input", metavar="INPUT", help="CSV or TSV with a header naming a SMILES column (and "
                        "optionally an id or name column), .smi, or SDF")
    screen.add_argument("--output", "-o", default="-", help="CSV file to write ('-' = standard output)")
    screen.add_argument("--user", default=user, help="name for the audit trail")
    screen.add_argument("--no-audit", action="store_true", help="do not record the screen in the audit store")
    screen.add_argument("--quiet", action="store_true", help="no progress bar")
    screen.set_defaults(run=run_screen)

    optimize = commands.add_parser(
        "optimize", help="propose and rank better analogues of a lead SMILES",
        description="Propose analogues of a lead (substituent swaps, ring and linker changes, BRICS recombination), "
                    "keep those similar to it and free of alerts, and rank them by the weighted objectives, best "
                    "first. Output columns: smiles, edit, similarity_to_lead, score, better_than_lead, lead_score, "
                    "lead_smiles, pareto_front, activity_bace1, solubility, safety, qed (objectives, 0-1, higher is "
                    "better), in_domain, logS, logD, clinical_toxicity, bbb_penetration. Exit codes: 0 written "
                    "(perhaps no analogue, said on stderr); 2 the lead is not a valid molecule.")
    optimize.add_argument("smiles", metavar="SMILES")
    optimize.add_argument("--n", type=_at_least_one, default=20, help="analogues to keep (best first)")
    optimize.add_argument("--min-similarity", type=float, default=0.4, help="Tanimoto bound to the lead (0-1)")
    optimize.add_argument("--weights", type=float, nargs=4, default=None,
                          metavar=("ACTIVITY", "SOLUBILITY", "SAFETY", "QED"),
                          help="objective weights (default 1 each, but BACE-1 activity 0 for a lead outside "
                               "drug-bace's domain)")
    optimize.add_argument("--seed", type=int, default=0, help="seeds BRICS partner sampling")
    optimize.add_argument("--output", "-o", default="-", help="CSV file to write ('-' = standard output)")
    optimize.add_argument("--user", default=user, help="name for the audit trail")
    optimize.add_argument("--no-audit", action="store_true", help="do not record in the audit store")
    optimize.add_argument("--quiet", action="store_true", help="no progress bar")
    optimize.set_defaults(run=run_optimize)
