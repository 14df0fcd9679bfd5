"""Alembic's migrations of the class store, run by ClassStore on start (no alembic.ini: see
nnviz.classroom.store.migrate). Revisions: 0001 round 1 (classes, students, submissions),
0002 the break round (attacks) and the join rate limit (join_failures)."""
