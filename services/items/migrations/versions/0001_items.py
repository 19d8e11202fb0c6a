"""The items table.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "items",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.String(2000)),
        sa.Column("price", sa.BigInteger, nullable=False),
        sa.Column("owner_id", sa.BigInteger, nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.statement_timestamp(),
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.statement_timestamp(),
        ),
        sa.CheckConstraint("price >= 0", name="items_price_non_negative"),
        sa.CheckConstraint("char_length(name) >= 1", name="items_name_not_empty"),
    )
    op.create_index("items_owner_id_id_idx", "items", ["owner_id", "id"])


def downgrade() -> None:
    op.drop_table("items")
