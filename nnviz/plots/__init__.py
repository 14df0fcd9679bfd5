"""Plotly figure builders: pure functions from arrays to go.Figure (no Streamlit here)."""
