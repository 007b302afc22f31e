"""Headless Chromium for the browser tests: the driver, axe-core, screenshots.

Debian's chromium and chromedriver are used as installed (no Selenium Manager, no
downloads). axe-core comes from npm (package.json at the repository root): when
node_modules lacks it, `npm install --no-audit --no-fund` runs once; if npm is missing
or offline the accessibility checks skip with the reason, the other tests still run.
Screenshots go to test-artifacts/ (NEWSDESK_TEST_ARTIFACTS overrides; gitignored).
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get("NEWSDESK_TEST_ARTIFACTS", ROOT / "test-artifacts"))
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]

_axe_lock = threading.Lock()
_axe_state: dict[str, object] = {}


def _find(*names: str) -> str | None:
    for name in names:
        path = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
        if path:
            return path
    return None


def chromium_paths() -> tuple[str, str]:
    """(browser, driver), or skip the calling test with the reason."""
    browser = os.environ.get("NEWSDESK_CHROMIUM") or _find("chromium", "chromium-browser", "google-chrome")
    driver = os.environ.get("NEWSDESK_CHROMEDRIVER") or _find("chromedriver")
    # Only existing files: a missing driver must not send Selenium Manager downloading one.
    browser = browser if browser and Path(browser).is_file() else None
    driver = driver if driver and Path(driver).is_file() else None
    if not browser or not driver:
        pytest.skip(f"browser tests need chromium and chromedriver (found browser={browser}, driver={driver})")
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip("browser tests need selenium (pip install -e .[test])")
    return browser, driver


def new_driver(*, javascript: bool = True, width: int = 1366, height: int = 900):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = chromium_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},{height}")
    options.add_argument("--lang=en-GB")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    try:
        driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    except Exception as error:  # a broken browser install is a skip, not a failure
        pytest.skip(f"could not start headless chromium: {error}")
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    return driver


def console_errors(driver) -> list[str]:
    """Console messages of level SEVERE since the last call (CSP violations land here)."""
    try:
        entries = driver.get_log("browser")
    except Exception:
        return []
    return [e["message"] for e in entries if e.get("level") == "SEVERE"]


# --- axe-core -----------------------------------------------------------------------------


def axe_source() -> str:
    """axe.min.js, installed from npm on first use; skips the test when it cannot be had."""
    with _axe_lock:
        if "source" not in _axe_state and "skip" not in _axe_state:
            if not AXE.exists():
                npm = shutil.which("npm")
                if npm is None:
                    _axe_state["skip"] = "axe-core is not installed and npm is not available"
                else:
                    try:
                        done = subprocess.run(
                            [npm, "install", "--no-audit", "--no-fund", "--loglevel=error"],
                            cwd=ROOT,
                            capture_output=True,
                            text=True,
                            timeout=240,
                        )
                        if done.returncode != 0:
                            _axe_state["skip"] = f"npm install failed (offline?): {done.stderr.strip()[-300:]}"
                    except (OSError, subprocess.TimeoutExpired) as error:
                        _axe_state["skip"] = f"npm install did not finish: {error}"
            if "skip" not in _axe_state:
                if AXE.exists():
                    _axe_state["source"] = AXE.read_text(encoding="utf-8")
                else:
                    _axe_state["skip"] = f"npm install ran but {AXE} is missing"
    if "skip" in _axe_state:
        pytest.skip(str(_axe_state["skip"]))
    return str(_axe_state["source"])


def run_axe(driver) -> list[dict]:
    """axe-core's violations on the current page (WCAG 2.x A/AA and best practices).
    WebDriver scripts are not subject to the page's CSP, so the page stays as served."""
    source = axe_source()
    if not driver.execute_script("return typeof window.axe !== 'undefined'"):
        driver.execute_script(source)
    result = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        axe.run(document, {resultTypes: ['violations']})
          .then(r => done(r.violations.map(v => ({
              id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.slice(0, 5).map(n => ({target: n.target, summary: n.failureSummary}))}))))
          .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));
        """
    )
    return result


def serious(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v.get("impact") in ("serious", "critical")]


# --- screenshots and viewport ------------------------------------------------------------


def emulate(driver, *, width: int, height: int = 900, mobile: bool = False, dark: bool = False) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
    )
    driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]},
    )


def sideways_overflow(driver) -> int:
    """How many CSS pixels the page is wider than the window: a page a phone must scroll
    sideways to read (0 or less is right)."""
    return driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")


def reset_emulation(driver) -> None:
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


def full_page_screenshot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    path = ARTIFACTS / f"{name}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium with JavaScript, one per test module (import it by name)."""
    driver = new_driver()
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def plain_browser():
    """Headless Chromium without JavaScript: the pages as forms and links."""
    driver = new_driver(javascript=False)
    yield driver
    driver.quit()
