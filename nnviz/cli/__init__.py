"""The command line, `python -m nnviz train|attack|bench` (nnviz/cli/main.py dispatches), and
the drawing benchmark `python -m nnviz.cli.bench_draw`."""
