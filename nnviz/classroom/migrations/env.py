"""Alembic's entry point: runs the migrations on the connection the store passes in
config.attributes["connection"], inside the transaction the store has begun (and locked)."""
from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():  # a no-op in the store's transaction: it commits or rolls back
    context.run_migrations()
