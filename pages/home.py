"""Home (/): what nnviz is, and one card per page with its picture, its promise and a link."""
from pathlib import Path

import streamlit as st

from nnviz.ui.layout import page_header

CARDS = Path(__file__).resolve().parents[1] / "docs" / "cards"

# (page file, link label, icon, card picture, one-line promise)
PAGES = [
    ("pages/playground.py", "Playground", ":material/scatter_plot:", "playground.png",
     "Watch a small network bend its decision boundary around two classes of points, epoch by epoch."),
    ("pages/learn.py", "How it learns", ":material/school:", "learn.png",
     "A neuron, the cost, gradient descent and backpropagation step by step, with the numbers in every equation."),
    ("pages/mnist.py", "MNIST", ":material/grid_on:", "mnist.png",
     "Train a handwritten-digit classifier in seconds and watch what its weights learn to look for."),
    ("pages/draw.py", "Draw", ":material/draw:", "draw.png",
     "Draw a digit with the mouse and see the network's guess, how sure it is, and why."),
    ("pages/break.py", "Break", ":material/broken_image:", "break.png",
     "Change a digit by a few invisible pixels and make the network you trained say something else."),
    ("pages/class.py", "Class challenge", ":material/leaderboard:", "class.png",
     "The whole hall submits its networks to one live board, then attacks everybody else's."),
]

present = page_header("nnviz: how neural networks learn, and how they break",
                      "A live lab for a lecture or a laptop: every network here is trained in front of "
                      "you by a small NumPy engine written from scratch (forward pass, backpropagation, "
                      "optimisers), and every browser session gets its own.")

st.markdown(
    "Start with the **Playground** to see a network learn a boundary in two dimensions (and **How it "
    "learns** for the theory behind it: a neuron, the cost, gradient descent, backpropagation), train it on "
    "real handwritten digits on **MNIST**, test it with your own handwriting on **Draw**, then "
    "fool it on **Break**. The digit model you train on MNIST is the one Draw and Break use."
)

# Two cards a row: each picture stays large enough to read on a projector.
for row in (PAGES[i:i + 2] for i in range(0, len(PAGES), 2)):
    for col, (path, label, icon, picture, promise) in zip(st.columns(2, gap="large"), row):
        with col.container(border=True):
            st.subheader(f"{icon} {label}", anchor=False)
            if (CARDS / picture).is_file():
                st.image(str(CARDS / picture), width=560, alt=f"A screenshot of the {label} page")
            st.write(promise)
            st.page_link(path, label=f"Open {label}", icon=":material/arrow_forward:")

st.caption(":material/info: Projector mode (large type for a lecture hall): the toggle in the sidebar, "
           "or add `?present=1` to any link. Handwritten digits: MNIST (LeCun, Cortes and Burges), "
           "CC BY-SA 3.0.")
