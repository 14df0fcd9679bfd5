"""The class challenge: a hall trains, submits and breaks each other's digit networks.

The store (SQLAlchemy; SQLite by default, PostgreSQL by URL), the rating of submissions (a strong
fixed attack on private digits) and the worker that rates them; no UI.
"""
