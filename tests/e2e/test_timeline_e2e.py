"""Drive the Timeline page in Debian's Chromium: a sample patient's risk, NEWS2, charts and the
feedback panel; each model records the stay once."""

from __future__ import annotations

import pytest

from medai import registry
from medai.store import AuditStore
from tests.e2e.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_FLAGS, TIMEOUT_MS

pytestmark = pytest.mark.e2e
TIMELINE_MODELS = [n for n in ("icu-mortality", "icu-vitals-forecast", "icu-survival", "icu-similar-stays") if n in registry.names()]


def test_sample_patient_risk_charts_and_feedback(server):
    from playwright.sync_api import expect, sync_playwright

    url, db_url = server
    before = len(AuditStore(db_url).recent_predictions(limit=10_000))
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.set_default_timeout(TIMEOUT_MS)  # the server may still be loading other models
            page.goto(f"{url}/timeline", timeout=TIMEOUT_MS)
            expect(page.get_by_text("Pick a sample patient or upload a file to begin.")).to_be_visible()
            assert len(AuditStore(db_url).recent_predictions(limit=10_000)) == before, "a visit alone records nothing"
            page.locator("[data-testid='stSelectbox']").filter(has_text="Sample patient").click()
            page.get_by_role("option").first.click()
            try:
                expect(page.get_by_text("Death in hospital", exact=True)).to_be_visible(timeout=TIMEOUT_MS)
            finally:
                page.screenshot(path=str(ARTIFACTS / "e2e_timeline.png"), full_page=True)
            expect(page.get_by_text("NEWS2 now / max")).to_be_visible(timeout=TIMEOUT_MS)
            expect(page.locator("[data-testid='stPlotlyChart']").first).to_be_visible(timeout=TIMEOUT_MS)
            # The page draws its charts below the form after it: under load (a CI run) a click on Save while
            # it still draws was once lost, so the test waits, as a reader waits for the page, before saving.
            idle = page.locator("[data-testid='stApp'][data-test-script-state='notRunning']")
            expect(idle).to_have_count(1, timeout=TIMEOUT_MS)
            page.get_by_text("Feedback on the mortality risk").click()
            page.get_by_role("button", name="Save feedback").click()
            expect(page.get_by_text("Your feedback on record")).to_be_visible(timeout=TIMEOUT_MS)
            page.screenshot(path=str(ARTIFACTS / "e2e_timeline_feedback.png"), full_page=True)
            # Saving reruns the page: a click while it redraws can land on a button about to be replaced.
            expect(page.locator("[data-testid='stApp']")).to_have_attribute("data-test-script-state", "notRunning",
                                                                            timeout=TIMEOUT_MS)
            button = page.get_by_role("button", name="Download the risk (CSV)")
            button.scroll_into_view_if_needed()
            with page.expect_download(timeout=TIMEOUT_MS) as download:  # an export, logged before it leaves
                button.click()
            assert download.value.path().read_bytes().startswith(b"\xef\xbb\xbfpatient_id,mortality_risk,news2_max")
            (export,) = AuditStore(db_url).events("export.report", limit=1)
            assert export.details["format"] == "risk.csv" and export.details["prediction_id"] is not None
        finally:
            browser.close()
    assert len(AuditStore(db_url).recent_predictions(limit=10_000)) - before == len(TIMELINE_MODELS)


def test_ward_overview_ranks_the_sample_ward_and_opens_a_patient(server):
    """The worklist's first row selected in the grid opens that patient on the Patient timeline."""
    from playwright.sync_api import expect, sync_playwright

    url, db_url = server
    before = {r.id for r in AuditStore(db_url).recent_predictions(limit=10_000)}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1400})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(url, timeout=TIMEOUT_MS)
            name = page.get_by_label("Your name (for the audit trail)")
            name.fill("dr.ward")
            name.press("Enter")
            page.get_by_role("link", name="Ward overview").click()
            page.get_by_text("Sample ward", exact=True).click()
            grid = page.locator("[data-testid='stDataFrame']").first
            try:
                expect(page.get_by_text("12 patients ranked")).to_be_visible(timeout=TIMEOUT_MS)
                expect(grid.locator("canvas").first).to_be_visible(timeout=TIMEOUT_MS)
            finally:
                page.screenshot(path=str(ARTIFACTS / "e2e_ward.png"), full_page=True)
            box = grid.bounding_box()
            page.mouse.click(box["x"] + 12, box["y"] + 35 + 17)  # the first row's selection box, under the header
            page.get_by_role("button", name="Open patient").click()
            expect(page.get_by_text("Death in hospital", exact=True)).to_be_visible(timeout=TIMEOUT_MS)
            expect(page.get_by_text("opened from the Ward overview")).to_be_visible(timeout=TIMEOUT_MS)
            page.screenshot(path=str(ARTIFACTS / "e2e_ward_to_timeline.png"), full_page=True)
        finally:
            browser.close()
    added = [r for r in AuditStore(db_url).recent_predictions(limit=10_000) if r.id not in before]
    assert {r.model_name for r in added} >= set(TIMELINE_MODELS)
    assert {r.user for r in added} == {"dr.ward"}, "the typed name survives st.switch_page to the timeline"
