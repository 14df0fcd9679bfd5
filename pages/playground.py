"""Playground: a small network learns the boundary between two (or more) classes of points, live.

Thin on purpose: widgets -> PlaygroundState -> run -> figures all live in nnviz.ui.playground
(and nnviz.ui.race for learning by evolution and the race against backprop).
"""
from nnviz.ui import playground as pg
from nnviz.ui import race
from nnviz.ui.layout import page_header

present = page_header("Playground", "Watch a small network learn to separate the classes. Press Play; "
                                    "change the data, the inputs and the network in the sidebar.")
state = race.method_bar(pg.current_state())
state = race.settings(pg.settings(state))
run = pg.ensure_run(state)
state, slots = pg.controls(state, run, present)
run = pg.ensure_run(state)
pg.sync_url(state)
pg.run_messages(run)
pg.live_view(slots, present)
