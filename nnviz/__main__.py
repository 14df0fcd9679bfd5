"""`python -m nnviz COMMAND ...`: see nnviz/cli.py."""
from nnviz.cli.main import main

raise SystemExit(main())
