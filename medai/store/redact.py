"""Scrub what looks like a patient identifier out of free text before it is stored.

A clinician's comment is free text, and identifiers end up in it (``patient DOE^JANE MRN-555-1234``
was once stored word for word). The rules below remove the forms that can be recognised without
knowing the patient: names written the DICOM way (``FAMILY^GIVEN``), capitalised names after a
title, a word for a person or a label (``Dr John Smith``, ``patient Jane Doe``, ``Mrs. O'Neil``, ``baby Sam
Roe``, ``Name: Jane Roe``), names in lower case after the same words (``mr john smith``, ``patient jane roe``,
``wife mary jones``) or as ``Smith, John``, record numbers, e-mail
addresses, phone numbers, long digit runs and dates. They err towards removing too much, because a
lost word in a comment costs less than a stored identifier. A name written in plain words with nothing before it
("Jane Doe said") cannot be told from other words and is not caught: the page asks users not to
type identifiers at all.
"""

from __future__ import annotations

import re

REMOVED = "[removed]"

_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
          r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"

# Applied in this order: dates before digit runs, so a date goes as one piece.
_BEFORE_PHONES = [re.compile(pattern, re.IGNORECASE) for pattern in (
    # 2024-03-01, 2024/3/1, 2024.03.01
    r"\b\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b",
    # 01/03/2024, 1.3.24, 01-03-2024
    r"\b\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}\b",
    # 3 March 2024, 3rd Mar, 3 march, 2024
    rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{2,4}})?(?!\w)",
    # March 3, 2024; March 3rd; March 2024
    rf"\b{_MONTH}\s+(?:{_DAY}(?:,?\s+\d{{4}})?|\d{{4}})\b",
    # A labelled record number: MRN-555-1234, MRN 5551234, NHS no. 943 476 5919, patient ID: AB12345
    r"\b(?:MRN|MR\s*no\.?|medical\s+record\s+(?:number|no\.?)|hosp(?:ital|\.)?\s+(?:number|no\.?|\#)"
    r"|NHS(?:\s+(?:number|no\.?))?|patient\s+(?:id|number|no\.?)|PID)\s*[:#]?\s*[-:#]?\s*"
    r"[A-Z]{0,4}\d(?:[ /-]?\d)*\b",
)]
# Phone numbers (see _DIGIT_GROUPS) go between the two lists: before the digit-run rules cut them up.
_AFTER_PHONES = [re.compile(pattern, re.IGNORECASE) for pattern in (
    # A hospital-number-like code: ABC123456, AB-1234567
    r"\b[A-Z]{1,4}-?\d{5,}[A-Z]?\b",
    # A phone- or NHS-number-shaped group: 943 476 5919, 555-123-4567
    r"\b\d{3}[ -]\d{3}[ -]\d{4}\b",
    # Six or more digits, possibly split by hyphens: 5551234, 555-1234, 20240301
    r"\b\d(?:-?\d){5,}\b",
    # A DICOM person name: DOE^JANE, DOE^JANE^M, ^JANE. Each of these two starts only where a run of its
    # characters starts: otherwise every position inside a long run rescans the run (quadratic time).
    r"(?<![\w'^-])[\w'-]*\^[\w'^-]*",
    # An e-mail address: john.smith@nhs.net
    r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
)]
# Digits in groups, as phone numbers are written (020 7946 0958, +44 20 7946 0958, (555) 123-4567):
# removed when the groups hold nine or more digits, so "BP 120/80" or "12.5 13.2 14.1" (decimals) stay;
# a row of nine or more digits of whole numbers ("HR 120 110 100 95") goes too, erring as above.
_DIGIT_GROUPS = re.compile(r"\+?\(?\d[\d ()-]{7,}\d")
MIN_PHONE_DIGITS = 9
# Titles, words for a person (a paediatric comment names the baby or the mum) and labels before a name.
_PERSON_WORDS = (r"dr|doctor|mr|mrs|ms|miss|mx|prof|professor|nurse|sister|brother|patient|pt|name|mother|mum|mom"
                 r"|father|dad|son|daughter|baby|infant|child|boy|girl|grandmother|grandfather|grandma|grandpa"
                 r"|granny|aunt|uncle|guardian|carer|husband|wife|partner|re|seen\s+by|reviewed\s+by|discussed\s+with")
_UPPER = "A-ZÀ-ÖØ-Þ"  # capitals, accented ones too (José Álvarez)
_PARTICLES = r"(?:(?:van|von|de|der|den|del|della|di|da|du|la|le|bin|ibn|al|el)\s+)*"  # van der Berg
_CAPITALISED = rf"{_PARTICLES}[{_UPPER}][\w'’-]*\.?"
# Between a title or label and the name: "Dr. ", "Patient: ", "Name:Jane", "Name - Jane", "mother of Jane".
_AFTER_TITLE = r"(?:\.\s*|\s*:\s*|\s+[-–]\s+|\s+of\s+|\s+)"
# Capitalised words that follow these titles in clinical notes and are not names ("re Pneumonia",
# "Child Xray Normal", "discussed with Radiology"); short all-capital words are abbreviations (RLL, CT).
_CLINICAL_WORDS = frozenset(
    "pneumonia normal abnormal xray x-ray film films image images scan chest lung lungs heart right left bilateral "
    "upper middle lower lobe lobes base bases radiology radiologist consolidation effusion opacity opacities nodule "
    "fracture infection viral bacterial covid covid-19 agree agreed disagree review follow repeat report findings "
    "finding team ward icu clinic the a an this that with no not stable unwell improving".split())
MAX_ABBREVIATION = 3


def _clinical(word: str) -> bool:
    return word.strip(".").lower() in _CLINICAL_WORDS


# "Family, Given" (Smith, John): two capitalised words around a comma, neither a clinical word nor the
# second a label ("Pneumonia, Right lower lobe"; "Roe, Name:").
_COMMA_NAME = re.compile(rf"\b([{_UPPER}][a-zà-ÿ'’-]+),\s+(?!(?i:{_PERSON_WORDS})\b)([{_UPPER}][a-zà-ÿ'’-]+)\b")


def _comma_name(match: re.Match) -> str:
    return match.group(0) if _clinical(match.group(1)) or _clinical(match.group(2)) else REMOVED


# A title, a word for a person or a label, then one to three capitalised words or initials (the title
# stays), unless what follows is another such word ("Patient Name: Jane Roe") or a clinical word.
_TITLED_NAME = re.compile(rf"\b((?i:{_PERSON_WORDS}){_AFTER_TITLE})(?!(?i:{_PERSON_WORDS})\b)"
                          rf"({_CAPITALISED}(?:\s+{_CAPITALISED}){{0,2}})")


_HONORIFIC = re.compile(r"(?i:dr|doctor|mr|mrs|ms|miss|mx|prof|professor)\b")


def _titled_name(match: re.Match) -> str:
    words = match.group(2).split()
    first = words[0].strip(".")
    # An abbreviation stands alone ("re RLL consolidation"); capitals followed by more are a name ("ANN LEE"),
    # and so is anything after an honorific ("Dr LEE").
    abbreviation = (first.isupper() and len(first) <= MAX_ABBREVIATION and len(words) == 1
                    and not _HONORIFIC.match(match.group(1)))
    return match.group(0) if first.lower() in _CLINICAL_WORDS or abbreviation else f"{match.group(1)}{REMOVED}"


# A name typed in lower case after an honorific ("mr john smith"), a word for a person ("patient jane roe",
# "spoke to wife mary jones") or a label ("name: jane roe"): the next one or two words, unless they are the
# words that follow such a word without a name ("patient has", "mother reports", "dr to review", "pt
# improving"). Names rarely end in -ing, -ed or -ly, so words that do are read as words.
_HONORIFIC_LOWER = re.compile(rf"\b((?i:dr|mr|mrs|ms|miss|mx|prof)\.?\s+|(?i:{_PERSON_WORDS})(?:\s*:\s*|\s+))"
                              r"([a-zà-ÿ][\w'’-]*)(\s+[a-zà-ÿ][\w'’-]*)?")
_NOT_NAMES = frozenset("to the a an and or but is are be been was were will would should could can may might has had "
                       "have did does do at in on of for with without by from as says said agrees agreed reviewed "
                       "review reviews asked called noted notes note thinks feels felt wants saw seen looks looked "
                       "appears appeared seems seemed reports reported denies denied complains complained presents "
                       "presented developed underwent received known now currently still also previously who whose "
                       "whom which that born aged age year years old male female transferred admitted discharged "
                       "refused declined remains remained went came states stated here there today yesterday "
                       "tomorrow tonight then very well much more less got gets needs needed requires required "
                       "requested consultant registrar surgeon surgeons physician physicians family parents parent "
                       "staff colleague colleagues nurses doctors".split())
_WORD_ENDINGS = ("ing", "ed", "ly")


def _plain_word(word: str) -> bool:
    word = word.strip().lower()
    return word in _NOT_NAMES or word in _CLINICAL_WORDS or (len(word) > 4 and word.endswith(_WORD_ENDINGS))


def _lowercase_name(match: re.Match) -> str:
    title, first, second = match.group(1), match.group(2), match.group(3) or ""
    if _plain_word(first):
        return match.group(0)
    return f"{title}{REMOVED}{second if not second or _plain_word(second) else ''}"


def _phone(match: re.Match) -> str:
    found = match.group(0)
    return REMOVED if sum(c.isdigit() for c in found) >= MIN_PHONE_DIGITS else found


def redact_identifiers(text: str) -> str:
    """Replace names (DICOM ``^`` form, capitalised after a title, any case after a title or a word for a person, or
    "Family, Given"), record numbers, e-mail addresses, phone numbers, long digit runs and dates by
    ``[removed]``.

    Parameters
    ----------
    text : str
        Free text as typed (a feedback comment).

    Returns
    -------
    str
        The text with every match replaced by ``[removed]``; everything else is kept as typed.

    Examples
    --------
    >>> redact_identifiers("patient DOE^JANE MRN-555-1234, seen 2024-03-01: old scar")
    'patient [removed] [removed], seen [removed]: old scar'
    """
    for pattern in _BEFORE_PHONES:
        text = pattern.sub(REMOVED, text)
    text = _DIGIT_GROUPS.sub(_phone, text)
    for pattern in _AFTER_PHONES:
        text = pattern.sub(REMOVED, text)
    text = _COMMA_NAME.sub(_comma_name, text)
    text = _TITLED_NAME.sub(_titled_name, text)
    return _HONORIFIC_LOWER.sub(_lowercase_name, text)
