"""Drive the Segment page in Debian's Chromium: pick the chest X-ray sample, see the overlay and the
measurements, download the measurements CSV, move sliders, pick a second image (which starts at the
validated thresholds), and count the audit records (one per image)."""

from __future__ import annotations

import csv
import io

import pytest

from medai.store import AuditStore
from tests.e2e.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_FLAGS, TIMEOUT_MS

pytestmark = pytest.mark.e2e
SAMPLE = "cxr_X-ray_of_cyst_in_pneumocystis_pneumonia_1.jpg"
NEXT_SAMPLE = "cxr_normal_NORMAL2-IM-1427-0001.jpeg"


def test_pick_a_sample_see_overlay_and_measurements_download_csv(server):
    from playwright.sync_api import expect, sync_playwright

    url, db_url = server
    before = len(AuditStore(db_url).recent_predictions(limit=10_000))
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800}, accept_downloads=True)
            page.set_default_timeout(TIMEOUT_MS)  # the server may still be loading other models
            page.goto(f"{url}/segment", timeout=TIMEOUT_MS)
            expect(page.get_by_text("Research use only").first).to_be_visible(timeout=TIMEOUT_MS)
            page.locator("[data-testid='stSelectbox']").filter(has_text="or try a sample image").click()
            page.get_by_role("option", name=SAMPLE).click()
            # :visible: the page's ratio, not the model card's figures in the closed expander
            ratio = page.locator("[data-testid='stMetric']:visible").filter(has_text="Cardiothoracic ratio")
            try:
                expect(ratio).to_be_visible(timeout=TIMEOUT_MS)
            finally:
                page.screenshot(path=str(ARTIFACTS / "e2e_segment.png"), full_page=True)
            expect(page.locator("[data-testid='stDataFrame']").first).to_be_visible()
            overlay = page.locator("[data-testid='stImage']").filter(has_text="Overlay")
            expect(overlay.locator("img")).to_be_visible()
            expect(page.get_by_text("Disagreement with the ground truth")).to_have_count(0)
            with page.expect_download(timeout=TIMEOUT_MS) as download:
                page.get_by_role("button", name="Measurements (CSV)").click()
            rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8-sig").read())))
            assert {"right_lung", "left_lung", "cardiomediastinum"} <= {row.get("structure") for row in rows}
            (export,) = AuditStore(db_url).events("export.report", limit=1)  # recorded before it was built
            assert export.details["format"] == "measurements csv" and export.details["prediction_id"] is not None
            assert set(export.details["thresholds"]) >= {"right_lung", "left_lung"}  # what the file was made at
            page.get_by_role("slider").first.press("ArrowRight")  # the opacity slider: a rerun, not a new record
            page.wait_for_timeout(2000)
            expect(ratio).to_be_visible(timeout=TIMEOUT_MS)
            page.screenshot(path=str(ARTIFACTS / "e2e_segment.png"), full_page=True)
            # A threshold moved on one image must not follow the reader to the next: the browser keeps a
            # slider's value and sends it back at the next rerun (here, the outline toggle).
            moved_note = page.get_by_text("Measured at the thresholds set above")
            page.get_by_text("Thresholds (defaults").click()
            page.locator("[data-testid='stSlider']").filter(has_text="Right lung").get_by_role("slider").press("End")
            expect(moved_note).to_be_visible(timeout=TIMEOUT_MS)
            # The threshold's run must end first: its redraw closes a list opened meanwhile.
            expect(page.locator("[data-testid='stApp']")).to_have_attribute("data-test-script-state", "notRunning",
                                                                             timeout=TIMEOUT_MS)
            page.locator("[data-testid='stSelectbox']").filter(has_text="or try a sample image").click()
            page.get_by_role("option", name=NEXT_SAMPLE).click()
            expect(page.get_by_text(NEXT_SAMPLE).first).to_be_visible(timeout=TIMEOUT_MS)
            expect(ratio).to_be_visible(timeout=TIMEOUT_MS)
            expect(moved_note).to_have_count(0, timeout=TIMEOUT_MS)
            page.get_by_text("Outlines", exact=True).click()
            page.wait_for_timeout(3000)
            expect(page.locator("[data-testid='stImage']").filter(has_text="Outlines")).to_be_visible(timeout=TIMEOUT_MS)
            expect(moved_note).to_have_count(0)
            page.screenshot(path=str(ARTIFACTS / "e2e_segment_next.png"), full_page=True)
        finally:
            browser.close()
    assert len(AuditStore(db_url).recent_predictions(limit=10_000)) - before == 2
