"""Fixtures for all tests."""
import pytest
from streamlit.runtime.pages_manager import PagesManager


@pytest.fixture(autouse=True)
def apptest_runs_app_py(monkeypatch):
    """Make every AppTest run go through app.py's st.navigation, as a running server does.

    AppTest resets Streamlit's legacy-mode flag before each run, and with a folder named `pages/`
    beside app.py the legacy mode would run the page file alone. A server leaves that mode for
    good at the first st.navigation call (nnviz.ui.layout.ensure_app_navigation covers its very
    first request, tested in tests/browser/test_deep_link.py).
    """
    init = PagesManager.__init__

    def init_without_legacy_pages(self, *args, **kwargs):
        init(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init_without_legacy_pages)
