"""Playground: a small network learns the boundary between two (or more) classes of points, live.

Thin on purpose: widgets -> PlaygroundState -> run -> figures all live in nnviz.ui.playground.
"""
from nnviz.ui import playground as pg
from nnviz.ui.layout import page_header

present = page_header("Playground", "Watch a small network learn to separate the classes. Press Play; "
                                    "change the data, the inputs and the network in the sidebar.")
state = pg.settings(pg.current_state())
run = pg.ensure_run(state)
state, slots = pg.controls(state, run, present)
run = pg.ensure_run(state)
pg.sync_url(state)
pg.divergence_message(run)
pg.live_view(slots, present)
