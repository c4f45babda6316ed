"""One family of user-facing errors.

Every error raised on purpose by ``medai`` derives from :class:`MedAIError`; its ``str()`` is a
sentence a clinician can read. The edges (page, CLI) turn it into a message, a CSV row or an exit
code; nothing inside ``medai`` prints or exits.
"""


class MedAIError(Exception):
    """Base class: the message is safe to show to a user (no paths, no identifiers)."""


class InputError(MedAIError):
    """The input cannot be read as what it claims to be."""


class UnsupportedFormatError(InputError):
    """The bytes are not a PNG, JPEG or DICOM file."""


class InputTooLargeError(InputError):
    """The file exceeds the byte or pixel cap."""


class TooManyMoleculesError(InputTooLargeError):
    """A molecule file or pasted list holds more molecules than the caller takes."""


class ArchiveCutShortError(InputError):
    """An archive breaks off (cut in a copy, or damaged) after some of its files were read."""


class InvalidMoleculeError(InputError):
    """A SMILES (or a record of an SD file) does not describe a valid molecule."""


class ModelNotFoundError(MedAIError):
    """No model of that name is registered."""


class ModelIntegrityError(MedAIError):
    """A weights file is missing or its SHA-256 does not match the registry."""


class DataNotFoundError(MedAIError):
    """Training data are not where ``MEDAI_DATA_DIR`` says."""


class StoreError(MedAIError):
    """The audit database could not be read or written; nothing was recorded by the failed call."""




class WorkerError(MedAIError):
    """A worker process of a batch stopped unexpectedly; the batch produced nothing."""


class ConfigurationError(MedAIError):
    """A setting (an environment variable) holds a value that cannot be used; the message names it."""
