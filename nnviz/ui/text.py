"""User text (file names, CSV cells, model descriptions) shown as plain text in Streamlit's
Markdown elements (st.markdown, st.caption, st.error, ...): the one place that escapes it."""
from __future__ import annotations

import re

# Every character Markdown, Streamlit's directives (:red[...], :material/...:) and KaTeX ($...$)
# give a meaning to; a backslash before it makes it a literal character.
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:=&^\"'@])")


def plain(text: object) -> str:
    """`text` made safe for a Markdown element: it renders as exactly these characters, one line."""
    return _MARKDOWN.sub(r"\\\1", " ".join(str(text).split()))
