"""End-to-end tests: a Playwright expectation waits up to a minute (the server can still be loading the
other pages' models in the background on 2 cores), not Playwright's default 5 s."""

from playwright.sync_api import expect

expect.set_options(timeout=60_000)
