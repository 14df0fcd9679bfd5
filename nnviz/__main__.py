"""`python -m nnviz COMMAND ...`: see nnviz/cli.py."""
from .cli import main

raise SystemExit(main())
