"""The only part of nnviz that imports Streamlit: session state and widgets shared by the pages."""
