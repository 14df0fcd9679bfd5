"""A link on a slide opens a page directly on a freshly started server and still gets the whole app.

With the page files in `pages/`, Streamlit's legacy multipage mode would otherwise run the page
file on its own (narrow layout, file names in the sidebar, no BLAS cap) until someone opened "/".
"""
import re

from conftest import no_exception, running_streamlit
from playwright.sync_api import Browser, expect


def test_first_request_to_a_page_url_goes_through_app_navigation(browser: Browser, tmp_path):
    with running_streamlit(tmp_path / "server.log") as url:  # its own, fresh server
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(url + "/break")
        nav = page.get_by_test_id("stSidebarNav")
        expect(nav.get_by_role("link", name="Break")).to_be_visible(timeout=30_000)
        expect(nav.get_by_role("link", name="Home")).to_be_visible()
        expect(nav.get_by_text(re.compile(r"^app$"))).to_have_count(0)
        expect(page.get_by_role("heading", name=re.compile("break", re.I)).first).to_be_visible()
        expect(page).to_have_url(re.compile(r"/break$"))
        no_exception(page)
        page.close()
