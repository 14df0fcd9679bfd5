"""Cut the home page's card pictures (docs/cards/<page>.png) out of the README screenshots.

    .venv/bin/python docs/make_cards.py

The screenshots (docs/screenshots/<page>.png, 1280x720) are written by
tests/browser/test_app.py; run it first. Each card is a 16:9 part of the page's main area below its title,
scaled to 600 px wide: small enough to commit, large enough to read on the home page.
"""
from pathlib import Path

from PIL import Image

DOCS = Path(__file__).resolve().parent
# left, top, right, bottom in a 1280x720 screenshot: right of the sidebar, below the title,
# each 16:9, so the cards line up on the home page.
BOXES = {"learn": (380, 258, 1200, 720), "playground": (400, 280, 1183, 720), "mnist": (380, 260, 1200, 720),
         "draw": (690, 240, 1200, 527), "break": (600, 280, 1200, 618),
         "class": (30, 290, 795, 720)}
WIDTH = 600

for name, box in BOXES.items():
    shot = Image.open(DOCS / "screenshots" / f"{name}.png").convert("RGB")
    card = shot.crop(box)
    card = card.resize((WIDTH, round(WIDTH * card.height / card.width)), Image.LANCZOS)
    (DOCS / "cards").mkdir(exist_ok=True)
    card.save(DOCS / "cards" / f"{name}.png", optimize=True)
    print(f"docs/cards/{name}.png {card.size}")
