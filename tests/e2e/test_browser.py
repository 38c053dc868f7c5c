"""A person with a browser: headless Chromium (Debian's chromium + chromium-driver) via Selenium.

Logs in to the product admin, adds a product, sees it in the browsable API, and opens Swagger UI
with every host but 127.0.0.1 unresolvable (no internet), checking that it renders. Screenshots go
to tests/e2e/artifacts/.
"""
from __future__ import annotations

import secrets
import shutil
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT_SECONDS = 20


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} missing: install Debian's chromium and chromium-driver "
            "(`apt-get install -y chromium chromium-driver`; `make test` does this)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--window-size=1280,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
        # No internet: every host name but our loopback services fails to resolve.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ):
        options.add_argument(flag)
    # The system driver, never a download (Selenium Manager is not consulted when a path is given).
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(WAIT_SECONDS)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def product_admin(shop):
    """A local superuser of the product service, made with createsuperuser --noinput."""
    username, password = f"admin{secrets.token_hex(3)}", "Admin-pass-" + secrets.token_hex(6)
    shop.create_superuser("product", username=username, password=password)
    return username, password


def _wait(driver):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_SECONDS)


def _shot(driver, artifacts_dir: Path, name: str) -> None:
    driver.save_screenshot(str(artifacts_dir / f"{name}.png"))


def test_admin_add_product_then_browsable_api_then_offline_docs(browser, shop, product_admin, artifacts_dir):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select

    base = shop.url("product")
    username, password = product_admin

    browser.get(base + "/admin/login/?next=/admin/")
    browser.find_element(By.ID, "id_username").send_keys(username)
    browser.find_element(By.ID, "id_password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit], button[type=submit]").click()
    _wait(browser).until(EC.presence_of_element_located((By.ID, "user-tools")))
    _shot(browser, artifacts_dir, "1-admin-home")

    sku = f"BROWSER-{secrets.token_hex(3).upper()}"
    browser.get(base + "/admin/catalog/product/add/")
    browser.find_element(By.ID, "id_sku").send_keys(sku)
    browser.find_element(By.ID, "id_name").send_keys("Added in a browser")
    browser.find_element(By.ID, "id_price").send_keys("42.00")
    Select(browser.find_element(By.ID, "id_currency")).select_by_value("EUR")
    _shot(browser, artifacts_dir, "2-admin-add-product")
    browser.find_element(By.NAME, "_save").click()
    _wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, "ul.messagelist li.success")))
    assert sku in browser.page_source
    _shot(browser, artifacts_dir, "3-admin-product-saved")

    # The browsable API, signed in by the admin session.
    browser.get(base + "/api/products/?search=" + sku)
    _wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".response-info")))
    page = browser.find_element(By.CSS_SELECTOR, ".response-info").text
    assert "HTTP 200" in page and sku in page and '"42.00"' in page and '"EUR"' in page, page[:1000]
    _shot(browser, artifacts_dir, "4-browsable-api")

    # Swagger UI from our own static files alone: no CDN can be reached.
    browser.get(base + "/api/docs/")
    _wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".swagger-ui .opblock")))
    operations = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")]
    assert any("/api/products/" in text for text in operations), operations
    _shot(browser, artifacts_dir, "5-swagger-ui-offline")
