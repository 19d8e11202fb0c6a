"""A ledger table whose column names clash with paging's own (``total``, ``page_position``).

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("page_position", sa.Integer, nullable=False),
        sa.Column("state", sa.String(50)),
    )


def downgrade() -> None:
    op.drop_table("ledger")
