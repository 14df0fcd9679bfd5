"""`python -m nnviz COMMAND ...`: see nnviz/cli/main.py."""
from nnviz.cli.main import main

raise SystemExit(main())
