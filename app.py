"""nnviz: the page config and the navigation; each page lives in pages/."""
import streamlit as st

from nnviz.engine.threads import cap_blas_threads

cap_blas_threads(1)  # every session is a thread of this process: one BLAS thread each (see nnviz/engine/threads.py)
st.set_page_config(page_title="nnviz: how neural networks learn, and how they break",
                   page_icon=":material/hub:", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/learn.py", title="How it learns", icon=":material/school:", url_path="learn"),
    st.Page("pages/playground.py", title="Playground", icon=":material/scatter_plot:", url_path="playground"),
    st.Page("pages/mnist.py", title="MNIST", icon=":material/grid_on:", url_path="mnist"),
    st.Page("pages/draw.py", title="Draw", icon=":material/draw:", url_path="draw"),
    st.Page("pages/break.py", title="Break", icon=":material/broken_image:", url_path="break"),
    st.Page("pages/class.py", title="Class challenge", icon=":material/leaderboard:", url_path="class"),
]

st.navigation(PAGES).run()
