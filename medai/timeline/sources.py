"""Where stays come from: a folder (PhysioNet files, long CSVs, FHIR Bundles), a ``.tar.gz`` of PhysioNet
files, one file, or an upload's bytes — each read by :mod:`medai.timeline.io` or :mod:`medai.timeline.fhir`.

A file that cannot be read becomes a ``(name, error)`` item in its place, so one bad file never stops a batch.
"""

from __future__ import annotations

import os
import tarfile
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Iterator

from medai.errors import ArchiveCutShortError, InputError, InputTooLargeError
from medai.timeline.io import MAX_FILE_BYTES, MAX_STAYS, Stay, read_long_csv, read_physionet

MAX_ARCHIVE_BYTES = 500 * 2**20  # a .tar.gz of stay files (uncompressed members counted)
FOLDER_SUFFIXES = (".txt", ".csv", ".json")  # PhysioNet files, long CSVs, FHIR Bundles
ARCHIVES = (".tar.gz", ".tgz")  # of PhysioNet files, as PhysioNet ships its sets
# PhysioNet's Outcomes-a.txt, skipped in a folder as the README beside it is (a long CSV may start "RecordID,time")
OUTCOMES_HEADER = b"RecordID,SAPS-I,SOFA,"


def iter_tar(path: str | os.PathLike) -> Iterator[tuple[str, bytes]]:
    """(member name, bytes) of every ``.txt`` file in a ``.tar.gz``, sorted by name, without extracting to disk.

    Raises
    ------
    InputError
        Nothing in it can be read, or it holds too much.
    ArchiveCutShortError
        After the files read before a break (an archive cut in a copy, or damaged) were yielded.
    """
    files: list[tuple[str, bytes]] = []
    total, broken = 0, None
    try:
        with tarfile.open(path, "r|gz") as archive:  # streamed: the files before a break are kept
            for member in archive:
                total += member.size  # a skipped member is inflated all the same: streamed, it must be read past
                if total > MAX_ARCHIVE_BYTES:
                    raise InputTooLargeError(f"The archive unpacks to more than {MAX_ARCHIVE_BYTES // 2**20} MB.")
                if not member.isfile() or not member.name.endswith(".txt") or Path(member.name).name.startswith("."):
                    continue
                if len(files) >= MAX_STAYS:
                    raise InputTooLargeError(f"The archive holds more than {MAX_STAYS:,} files.")
                handle = archive.extractfile(member)
                files.append((member.name, handle.read() if handle else b""))
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        if not files:
            raise InputError("The archive cannot be read as a .tar.gz.") from exc
        broken = exc
    yield from sorted(files)
    if broken is not None:
        raise ArchiveCutShortError(f"The archive breaks off (cut in a copy, or damaged) after {len(files)} patient "
                                   "files, which were read; any after the break are missing.") from broken


def stay_files(folder: Path) -> list[Path]:
    """The files of a folder (and its sub-folders) that may hold stays, sorted: PhysioNet files, long CSVs,
    FHIR Bundles and ``.tar.gz`` archives; hidden files left out."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")
                  and (p.suffix.lower() in FOLDER_SUFFIXES or p.name.lower().endswith(ARCHIVES)))


def read_stays(path: str | os.PathLike) -> Iterator[Stay | tuple[str, InputError]]:
    """Every stay in a folder (of PhysioNet files, long CSVs and FHIR Bundles), a ``.tar.gz`` of PhysioNet
    files, one PhysioNet file, a long CSV or a FHIR Bundle, its ``source`` the file it came from.

    Yields a :class:`Stay`, or ``(name, error)`` for a file that cannot be read, in sorted file order
    (within a long CSV or Bundle: order of first appearance), so one bad file never stops a batch.

    Raises
    ------
    InputError
        The path does not exist or holds nothing readable at all.
    """
    path = Path(path)
    if path.is_dir():
        files = stay_files(path)
        if not files:
            raise InputError("The folder holds no .txt (PhysioNet), .csv (long CSV), .json (FHIR) or .tar.gz files.")
        for file in files:  # each in its place; a file that cannot be read is one error item
            if file.name.lower().endswith(ARCHIVES):
                try:
                    yield from _from_archive(file, f"{file.relative_to(path).as_posix()}/")
                except InputError as exc:
                    yield file.name, exc
                continue
            try:
                if file.stat().st_size > MAX_FILE_BYTES:
                    raise InputTooLargeError(f"{file.name} is larger than {MAX_FILE_BYTES // 2**20} MB.")
                data = file.read_bytes()
                if data.startswith(OUTCOMES_HEADER):  # PhysioNet's outcomes table beside its set: not a patient
                    continue
                if file.suffix.lower() == ".txt":  # PhysioNet's own files
                    yield _from(read_physionet(data, file.name), file, path)
                else:
                    yield from (_from(stay, file, path) for stay in read_upload(data, file.name))
            except InputError as exc:
                yield file.stem if file.suffix.lower() == ".txt" else file.name, exc
    elif path.is_file() and path.name.lower().endswith(ARCHIVES):
        yield from _from_archive(path, f"{path.name}/")
    elif path.is_file():
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InputTooLargeError(f"The file is larger than {MAX_FILE_BYTES // 2**20} MB.")
        data = path.read_bytes()
        if data.lstrip().startswith(b"Time,Parameter,Value") or data.startswith(b"\xef\xbb\xbfTime,"):
            try:
                yield replace(read_physionet(data, path.name), source=path.name)
            except InputError as exc:
                yield path.stem, exc
        else:
            yield from (replace(stay, source=path.name) for stay in read_upload(data, path.name))
    else:
        raise InputError(f"No such file or folder: {path}.")


def _from_archive(path: Path, prefix: str) -> Iterator[Stay | tuple[str, InputError]]:
    """Every PhysioNet file of a ``.tar.gz``, its ``source`` ``prefix`` + the member's name; an archive that
    breaks off ends with an error item for the rest, named by the archive."""
    files = iter_tar(path)
    while True:
        try:
            name, data = next(files)
        except StopIteration:
            return
        except ArchiveCutShortError as exc:
            yield path.name, exc
            return
        if data.startswith(OUTCOMES_HEADER):
            continue
        try:
            yield replace(read_physionet(data, name), source=f"{prefix}{name}")
        except InputError as exc:
            yield Path(name).stem, exc


def _from(stay: Stay, file: Path, folder: Path) -> Stay:
    """``stay`` named by its file's path within ``folder``."""
    return replace(stay, source=file.relative_to(folder).as_posix())


def read_upload(data: bytes, name: str) -> list[Stay]:
    """Stays from uploaded bytes: a PhysioNet file, or a long CSV (the page's single entry point)."""
    if not data.strip():
        raise InputError("The file is empty.")
    if data.lstrip(b"\xef\xbb\xbf").startswith(b"Time,Parameter,Value"):
        return [read_physionet(data, name)]
    if data.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"{"):
        from medai.timeline.fhir import read_bundle

        return read_bundle(data)
    if name.lower().endswith(".json"):
        raise InputError("This .json file is not a FHIR Bundle: a Bundle is a JSON object, starting with '{'.")
    try:
        stays = read_long_csv(data)
    except InputError as exc:
        if name.lower().endswith(".txt"):
            raise InputError(f"This .txt file is not a PhysioNet 2012 file (its first line would be "
                             f"'Time,Parameter,Value') nor a long CSV: {exc}") from exc
        raise
    if not stays:
        raise InputError("The CSV holds no observation rows.")
    return stays
