"""Dates as spreadsheets write them: day and month order settled per stay, by the shorter stay."""

import datetime as dt

import pytest

from medai.timeline.local_dates import LocalDate, parse_local, read_dates


@pytest.mark.parametrize("text, first, second, year, seconds", [
    ("3/1/2024 22:15", 3, 1, 2024, 22 * 3600 + 15 * 60),
    ("01.03.2024 22:15:30", 1, 3, 2024, 22 * 3600 + 15 * 60 + 30),
    ("01-03-2024 07:05", 1, 3, 2024, 7 * 3600 + 5 * 60),
    ("3/1/24 10:15 PM", 3, 1, 2024, 22 * 3600 + 15 * 60),
    ("3/1/24 12:30 am", 3, 1, 2024, 30 * 60),
    ("3/1/99 12:30 PM", 3, 1, 1999, 12 * 3600 + 30 * 60),
    ("25/12/2024", 25, 12, 2024, 0),
])
def test_spreadsheet_forms_are_read(text, first, second, year, seconds):
    assert parse_local(text) == LocalDate(first, second, year, seconds, text)


def test_a_year_first_date_needs_no_order():
    assert parse_local("2024/03/01 10:30") == dt.datetime(2024, 3, 1, 10, 30)


@pytest.mark.parametrize("text", ["03:30", "3.5", "2024-03-01T10:30", "13/13/2024 10:00", "3/1/2024 24:00",
                                  "3/1/2024 13:00 PM", "31/31/2024", "1/2", "heart rate", "2024/02/30 10:00"])
def test_other_text_is_not_a_spreadsheet_date(text):
    assert parse_local(text) is None


def _dates(*texts):
    return [parse_local(t) for t in texts]


def test_the_order_that_keeps_the_stay_short_wins():
    # Day first: 1 and 2 March (a day); month first: 3 January and 3 February (a month).
    stamps, order, skipped = read_dates(_dates("01/03/2024 22:00", "02/03/2024 06:00"))
    assert stamps == [dt.datetime(2024, 3, 1, 22), dt.datetime(2024, 3, 2, 6)] and not skipped
    assert order.startswith("dates read day first: '01/03/2024 22:00' is 1 March 2024") and "8 h" in order
    stamps, order, _ = read_dates(_dates("3/1/2024 22:00", "3/2/2024 06:00"))
    assert stamps == [dt.datetime(2024, 3, 1, 22), dt.datetime(2024, 3, 2, 6)] and "month first" in order


def test_an_impossible_day_settles_the_order_without_a_note():
    stamps, order, skipped = read_dates(_dates("12/03/2024 22:00", "13/03/2024 06:00"))
    assert stamps == [dt.datetime(2024, 3, 12, 22), dt.datetime(2024, 3, 13, 6)] and order == skipped == ""


def test_dates_that_read_the_same_either_way_need_no_note():
    stamps, order, skipped = read_dates(_dates("05/05/2024 08:00", "05/05/2024 20:00"))
    assert stamps == [dt.datetime(2024, 5, 5, 8), dt.datetime(2024, 5, 5, 20)] and order == skipped == ""


def test_rows_in_the_minority_order_are_skipped_and_said():
    stamps, _, skipped = read_dates(_dates("13/03/2024 06:00", "14/03/2024 06:00", "3/15/2024 06:00"))
    assert stamps == [dt.datetime(2024, 3, 13, 6), dt.datetime(2024, 3, 14, 6), None]
    assert skipped == "1 row skipped: '3/15/2024 06:00' is no date read day first, as the stay's other dates are"
