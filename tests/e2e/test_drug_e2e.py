"""Drive the Drug page in Debian's Chromium: screen the sample molecules, see the table, the radar
chart and the per-row message, propose analogues, and count the audit records (one per model)."""

from __future__ import annotations

import pytest

from medai.drug.service import SCREEN_MODELS
from medai.store import AuditStore
from tests.e2e.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_FLAGS, TIMEOUT_MS

pytestmark = pytest.mark.e2e


def test_screen_sample_molecules_then_optimise(server):
    from playwright.sync_api import expect, sync_playwright

    url, db_url = server
    before = len(AuditStore(db_url).recent_predictions(limit=10_000))
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.set_default_timeout(TIMEOUT_MS)  # the server may still be loading other models
            page.goto(f"{url}/drug", timeout=TIMEOUT_MS)
            page.get_by_text("Sample molecules", exact=True).click()
            try:
                expect(page.get_by_text("12 of 14")).to_be_visible(timeout=TIMEOUT_MS)
            finally:
                page.screenshot(path=str(ARTIFACTS / "e2e_drug.png"), full_page=True)
            expect(page.locator("[data-testid='stDataFrame']").first).to_be_visible(timeout=TIMEOUT_MS)
            expect(page.locator("[data-testid='stPlotlyChart']").first).to_be_visible(timeout=TIMEOUT_MS)
            page.screenshot(path=str(ARTIFACTS / "e2e_drug.png"), full_page=True)
            with page.expect_download(timeout=TIMEOUT_MS) as download:  # an export, logged before it leaves
                page.get_by_role("button", name="Download results (CSV)").click()
            assert download.value.path().read_bytes().startswith(b"\xef\xbb\xbfid,smiles,canonical_smiles,valid")
            (export,) = AuditStore(db_url).events("export.report", limit=1)
            assert export.details["format"] == "screen csv" and len(export.details["records"]) == len(SCREEN_MODELS)
            page.get_by_role("button", name="Propose analogues").click()
            expect(page.get_by_text("Download analogues (CSV)")).to_be_visible(timeout=TIMEOUT_MS)
            page.screenshot(path=str(ARTIFACTS / "e2e_drug_optimise.png"), full_page=True)
        finally:
            browser.close()
    assert len(AuditStore(db_url).recent_predictions(limit=10_000)) - before == 2 * len(SCREEN_MODELS)
