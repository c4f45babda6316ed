"""``python -m medai timeline risk|forecast|ward|similar INPUT``: one CSV row per patient (risk, similar:
what happened to the training stays most like it), per forecast point (forecast), or per patient ranked
by risk, the highest first (ward: a worklist).

INPUT is a folder (of PhysioNet 2012 files, long CSVs, FHIR Bundles), a ``.tar.gz`` of PhysioNet files,
or one such file; several may be given. Exit codes as ``python -m medai diagnose``: 0 every patient has a
row that is ``ok``, ``flagged`` or ``refused`` (nothing to forecast or compare); 1 at least one patient (or
one of several INPUTs) is an ``error`` row (a file that cannot be read); 2 the command could not run, with
one line on stderr.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from typing import Iterator

from medai.errors import InputError

EXIT_OK, EXIT_ROW_ERRORS = 0, 1


def _items(arguments: list[str]) -> tuple[Iterator, int | None]:
    """Stays (or read errors) of every INPUT, in order, and, when cheap to know, how many there are (for
    the progress bar). A lone INPUT that cannot be used at all stops the run before any output; one of
    several becomes an error row named by its argument, as a bad file in a folder does."""
    from itertools import chain
    from pathlib import Path

    from medai.timeline.sources import read_stays, stay_files

    streams, total = [], 0
    for argument in arguments:
        path = Path(argument)
        files = [p.name.lower() for p in stay_files(path)] if path.is_dir() else []
        # One PhysioNet file a patient (PhysioNet's outcomes tables are not patients)
        patients = [name for name in files if not name.startswith("outcomes")]
        count = len(patients) if path.is_dir() and all(name.endswith(".txt") for name in files) else None
        total = None if total is None or count is None else total + count
        iterator = read_stays(path)
        try:
            first = next(iterator, None)  # raises InputError now if INPUT cannot be used at all
            if first is None:
                raise InputError("It holds no patient." if len(arguments) > 1 else "The input holds no patient.")
        except InputError as exc:
            if len(arguments) == 1:
                raise
            streams.append([(argument, exc)])
            continue
        streams.append(chain([first], iterator))
    return chain.from_iterable(streams), total


def _noting_files(items: Iterator, files: list[str]) -> Iterator:
    """``items`` unchanged, appending each one's file to ``files`` as it passes (an error item's name)."""
    for item in items:
        files.append(item[0] if isinstance(item, tuple) else item.source)
        yield item


def _run(args: argparse.Namespace, kind: str) -> int:
    from tqdm import tqdm

    from medai import registry
    from medai.cli import check_output_path, open_output
    from medai.store import AuditStore
    from medai.timeline import service
    from medai.timeline.ward import WARD_COLUMNS, worklist

    check_output_path(args.output)
    if kind == "forecast" and not 1 <= args.horizon <= 6:
        raise InputError("--horizon must be 1 to 6 hours.")
    items, total = _items(args.inputs)
    needed = {"forecast": service.FORECAST_MODEL, "similar": service.SIMILAR_MODEL}.get(kind, service.RISK_MODEL)
    registry.load(needed)  # fail before any output
    store = None if args.no_audit else AuditStore()
    output = open_output(args.output)
    errors = patients = 0
    try:
        columns = {"risk": service.RISK_COLUMNS, "forecast": service.FORECAST_COLUMNS, "ward": [*WARD_COLUMNS, "file"],
                   "similar": service.SIMILAR_COLUMNS}[kind]
        writer = csv.DictWriter(output, fieldnames=columns)
        writer.writeheader()
        with tqdm(total=total, unit="patient", file=sys.stderr, disable=args.quiet) as bar:
            if kind == "ward":  # ranking needs every patient: the rows come out together at the end
                files: list[str] = []  # each line's file, by its position in the input
                entries = worklist(_noting_files(items, files), user=args.user, source="cli", store=store,
                                   progress=bar.update)
                writer.writerows({**entry.row(), "file": files[entry.position]} for entry in entries)
                errors, patients = sum(e.risk.status == "error" for e in entries), len(entries)
            else:
                options = {"user": args.user, "source": "cli", "store": store, "progress": bar.update}
                results = {"risk": lambda: service.assess_risk(items, **options),
                           "similar": lambda: service.find_similar(items, **options),
                           "forecast": lambda: service.forecast_all(items, args.horizon, **options)}[kind]()
                for result in results:  # one row per patient, or per forecast point
                    writer.writerows(result.rows() if kind == "forecast" else [result.row()])
                    errors += result.status == "error"
                    patients += 1
    finally:
        if output is not sys.stdout:
            output.close()
    if errors:
        print(f"{errors} of {patients} patients could not be assessed; see the 'message' column.", file=sys.stderr)
    return EXIT_ROW_ERRORS if errors else EXIT_OK


def run_risk(args: argparse.Namespace) -> int:
    """Mortality risk and NEWS2 per patient."""
    return _run(args, "risk")


def run_forecast(args: argparse.Namespace) -> int:
    """Vitals forecasts per patient for 1..H hours after its latest timestamp."""
    return _run(args, "forecast")


def run_ward(args: argparse.Namespace) -> int:
    """A worklist: every patient ranked by mortality risk, with its 6-hour change and NEWS2."""
    return _run(args, "ward")


def run_similar(args: argparse.Namespace) -> int:
    """What happened to the training stays most like each patient."""
    return _run(args, "similar")


OUTPUTS = {
    "risk": "Output, one row per patient in input order: patient_id (a PhysioNet file's RecordID), mortality_risk "
            "(calibrated probability of in-hospital death from the data so far), news2_max and news2_last (blank "
            "when most NEWS2 parameters were not recorded), news2_not_recorded, status (ok, flagged: read the "
            "message; error: not read), message.",
    "forecast": "Output, one row per patient, variable and hour: patient_id, variable (HR, RespRate, Temp, SysABP "
                "or NISysABP, MAP or NIMAP, ...), hours_ahead (1..H after the patient's latest timestamp), time (hours "
                "since admission), p10, p50, p90 (80 % interval and median, in unit), status, message, unit. A patient "
                "with nothing to forecast is one row with status refused; one whose file cannot be read, error.",
    "ward": "Output, one row per patient, the highest risk first: the worklist's columns and the file each came "
            "from.",
    "similar": "Output, one row per patient: how many of the most similar training stays died in hospital, how "
               "alike they are, status and message.",
}
EXIT_CODES = (" Exit codes: 0 every patient has a row (ok, flagged or refused); 1 at least one file could not be "
              "read (its row says error, the others are written); 2 nothing could run (one line on stderr).")


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``timeline risk``, ``forecast``, ``ward`` and ``similar`` on the ``python -m medai`` parser."""
    timeline = commands.add_parser("timeline", help="ICU time series: mortality risk, NEWS2, vitals forecasts, ward worklist")
    actions = timeline.add_subparsers(dest="timeline_command", required=True)
    for name, runner, text in (("risk", run_risk, "mortality risk and NEWS2, one row per patient"),
                               ("forecast", run_forecast, "next-hours forecasts of the vitals"),
                               ("ward", run_ward, "a worklist: patients ranked by risk, with its 6 h change and NEWS2"),
                               ("similar", run_similar, "what happened to the training stays most like each patient")):
        action = actions.add_parser(name, help=text, description=f"{text[0].upper()}{text[1:]}.",
                                    epilog=OUTPUTS[name] + EXIT_CODES)
        action.add_argument("inputs", metavar="INPUT", nargs="+",
                            help="PhysioNet file, folder or .tar.gz of them, long CSV or FHIR Bundle (one or more)")
        if name == "forecast":
            action.add_argument("--horizon", type=int, default=6, help="hours ahead, 1-6")
        action.add_argument("--output", "-o", default="-", help="CSV file to write ('-' = standard output)")
        action.add_argument("--user", default=os.environ.get("USER", "cli"), help="name for the audit trail")
        action.add_argument("--no-audit", action="store_true", help="do not record predictions in the audit store")
        action.add_argument("--quiet", action="store_true", help="no progress bar")
        action.set_defaults(run=runner)
