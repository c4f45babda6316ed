"""Drive the real app in Debian's Chromium with Playwright: upload a sample, read the result, screenshot;
add ten films one by one, remove one, and count the audit records.

The harness (one server on a free port, a browser that never downloads itself) is in `conftest.py`.
"""

from __future__ import annotations

import re
import zlib

import pytest

from medai.store import AuditStore
from tests.e2e.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_FLAGS, TIMEOUT_MS

pytestmark = pytest.mark.e2e


def pdf_text(pdf: bytes) -> str:
    """The strings the PDF's (deflated) page streams print, joined by spaces."""
    streams = [zlib.decompress(raw) for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S)
               if raw[:1] == b"x"]  # a zlib header
    return " ".join(text.decode("latin-1") for stream in streams for text in re.findall(rb"\((.*?)\) ?Tj", stream))


def test_upload_sample_see_result_then_garbage_see_message(server, samples):
    from playwright.sync_api import expect, sync_playwright

    app_url, db_url = server
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            elsewhere = []  # the app works offline: a hospital network blocks font and image CDNs
            page.on("request", lambda request: elsewhere.append(request.url)
                    if not request.url.startswith((app_url, "data:", "blob:")) else None)
            page.set_default_timeout(TIMEOUT_MS)  # the server may still be loading other models
            page.goto(f"{app_url}/diagnose", timeout=TIMEOUT_MS)
            # A deep link on a fresh server must still get the router's sidebar and banner.
            expect(page.get_by_text("Your name (for the audit trail)")).to_be_visible(timeout=TIMEOUT_MS)
            expect(page.get_by_text("Research use only").first).to_be_visible()
            page.get_by_label("Your name (for the audit trail)").fill("Dr Second")
            page.get_by_label("Your name (for the audit trail)").press("Enter")
            page.wait_for_timeout(1000)  # the name's rerun must end before the upload, or it can swallow the file
            expect(page.locator("[data-testid='stApp']")).to_have_attribute("data-test-script-state", "notRunning",
                                                                             timeout=TIMEOUT_MS)
            upload = page.locator("input[type='file']")
            upload.set_input_files(str(samples / "cxr_pneumonia_person1946_bacteria_4874.jpeg"))
            decision = page.get_by_text("decision at threshold")
            expect(decision).to_be_visible(timeout=TIMEOUT_MS)
            expect(decision).to_contain_text("Pneumonia")
            expect(page.get_by_text("Uncertainty: the 5 models give")).to_be_visible()
            expect(page.get_by_text("where the network looked, not a lesion outline")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "e2e_diagnose.png"), full_page=True)
            # The report is built when the button is pressed, outside the script run: it must still name
            # whom the audit record names. A click while the run still draws can be lost: wait for its end.
            expect(page.locator("[data-testid='stApp']")).to_have_attribute("data-test-script-state", "notRunning",
                                                                             timeout=TIMEOUT_MS)
            with page.expect_download(timeout=TIMEOUT_MS) as download:
                page.get_by_role("button", name="One-page report (PDF)").click()
            assert "Requested by Dr Second" in pdf_text(download.value.path().read_bytes())
            (export,) = AuditStore(db_url).events("export.report", limit=1)  # recorded before it left
            assert export.user == "Dr Second" and export.details["format"] == "pdf report"
            # Another reader downloads it later: the report still names the record's user, the export its own.
            page.get_by_label("Your name (for the audit trail)").fill("Dr Third")
            page.get_by_label("Your name (for the audit trail)").press("Enter")
            page.wait_for_timeout(1000)
            expect(page.locator("[data-testid='stApp']")).to_have_attribute("data-test-script-state", "notRunning",
                                                                             timeout=TIMEOUT_MS)
            with page.expect_download(timeout=TIMEOUT_MS) as download:
                page.get_by_role("button", name="One-page report (PDF)").click()
            assert "Requested by Dr Second" in pdf_text(download.value.path().read_bytes())
            with page.expect_download(timeout=TIMEOUT_MS) as download:
                page.get_by_role("button", name="Download results (CSV)").click()
            assert download.value.path().read_bytes().startswith(b"\xef\xbb\xbffile,")  # a BOM: Excel reads UTF-8
            results, report = AuditStore(db_url).events("export.report", limit=2)
            assert (report.user, results.user, results.details["format"]) == ("Dr Third", "Dr Third", "results csv")
            assert results.details["records"] == [export.details["prediction_id"]]
            upload.set_input_files(files=[{"name": "scan.png", "mimeType": "image/png", "buffer": b"garbage"}])
            message = page.get_by_role("alert").filter(has_text="not a PNG, JPEG or DICOM")
            expect(message).to_be_visible(timeout=TIMEOUT_MS)
            page.screenshot(path=str(ARTIFACTS / "e2e_diagnose_garbage.png"), full_page=True)
            assert not elsewhere, elsewhere
        finally:
            browser.close()


def test_ten_films_added_one_by_one_then_one_removed_leave_ten_records(server, samples):
    """Each film is diagnosed and recorded once: adding or removing a file never records the others again."""
    from playwright.sync_api import expect, sync_playwright

    url, db_url = server
    before = len(AuditStore(db_url).recent_predictions(limit=10_000))
    film = (samples / "cxr_pneumonia_person1946_bacteria_4874.jpeg").read_bytes()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.set_default_timeout(TIMEOUT_MS)  # the server may still be loading other models
            page.goto(f"{url}/diagnose", timeout=TIMEOUT_MS)
            upload = page.locator("input[type='file']")
            expect(upload).to_be_attached(timeout=TIMEOUT_MS)
            decisions = page.get_by_text("decision at threshold")
            for number in range(1, 11):
                upload.set_input_files(files=[{"name": f"film_{number:02d}.jpeg", "mimeType": "image/jpeg",
                                               "buffer": film}])
                expect(decisions).to_have_count(number, timeout=TIMEOUT_MS)
            page.get_by_role("button", name="Remove film_03.jpeg").click()
            expect(decisions).to_have_count(9, timeout=TIMEOUT_MS)
            page.get_by_role("slider").first.press("ArrowRight")  # move the opacity slider: a rerun
            page.wait_for_timeout(2000)
            expect(decisions).to_have_count(9, timeout=TIMEOUT_MS)
            page.screenshot(path=str(ARTIFACTS / "e2e_diagnose_ten.png"), full_page=True)
        finally:
            browser.close()
    assert len(AuditStore(db_url).recent_predictions(limit=10_000)) - before == 10


def test_a_second_film_picked_while_the_first_is_read_leaves_one_record_each(server):
    """A rerun asked for while a film is being read must not read (and record) it a second time: with
    Streamlit's default fast reruns a second script thread started beside the first, and both recorded it."""
    from playwright.sync_api import expect, sync_playwright

    url, db_url = server
    films = ("cxr_normal_NORMAL2-IM-1427-0001.jpeg", "cxr_pneumonia_person1946_bacteria_4874.jpeg")
    before = len(AuditStore(db_url).recent_predictions(limit=10_000))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(f"{url}/diagnose", timeout=TIMEOUT_MS)
            idle = page.locator("[data-testid='stApp'][data-test-script-state='notRunning']")
            expect(idle).to_have_count(1, timeout=TIMEOUT_MS)
            box = page.locator("[data-testid='stMultiSelect']").filter(has_text="or try sample images")
            box.click()
            for film in films:  # the second picked at once, while the first is still being read
                page.get_by_role("option", name=film).click()
            page.keyboard.press("Escape")
            expect(page.get_by_text("decision at threshold")).to_have_count(2, timeout=TIMEOUT_MS)
            expect(idle).to_have_count(1, timeout=TIMEOUT_MS)
            page.wait_for_timeout(1500)  # a stray second run would record by now
        finally:
            browser.close()
    after = AuditStore(db_url).recent_predictions(limit=10_000)
    added = after[: len(after) - before]  # newest first
    assert len(added) == 2 and len({r.input_sha256 for r in added}) == 2, "each film recorded once"
