"""One account per email identity (NFKC, then case folding), stored in its own column.

Revision ID: 0002
Revises: 0001

The unique index on ``lower(email)`` folded differently from the lookup in
Python (``İ``, final sigma, ``ß``). Now ``users.email_identity`` holds
``users.emails.email_key(email)``, computed in Python for every existing row,
and carries the unique index. If two existing rows share an identity, the
upgrade stops before changing anything and names them: which account to keep
is a decision for a person, not a migration.
"""

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

from users.emails import email_key

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


class EmailIdentityCollisionError(RuntimeError):
    """Existing users that would become one identity; nothing was changed."""


def _identities(connection: sa.Connection) -> dict[int, str]:
    rows = connection.execute(sa.text("SELECT id, email FROM users ORDER BY id")).all()
    identities = {row.id: email_key(row.email) for row in rows}
    emails = {row.id: row.email for row in rows}
    by_identity: dict[str, list[int]] = defaultdict(list)
    for user_id, identity in identities.items():
        by_identity[identity].append(user_id)
    collisions = [ids for ids in by_identity.values() if len(ids) > 1]
    if collisions:
        groups = "; ".join(
            " = ".join(f"id {user_id} ({emails[user_id]!r})" for user_id in ids)
            for ids in collisions
        )
        raise EmailIdentityCollisionError(
            "users share an email identity, merge or rename them first: " + groups
        )
    return identities


def upgrade() -> None:
    connection = op.get_bind()
    identities = _identities(connection)  # raises before any change
    op.add_column("users", sa.Column("email_identity", sa.Text, nullable=True))
    if identities:
        connection.execute(
            sa.text("UPDATE users SET email_identity = :identity WHERE id = :id"),
            [{"id": user_id, "identity": identity} for user_id, identity in identities.items()],
        )
    op.alter_column("users", "email_identity", nullable=False)
    op.create_index("users_email_identity_key", "users", ["email_identity"], unique=True)
    op.drop_index("users_email_lower_key", table_name="users")

    # The lockout keys failures by the same identity; folding can lengthen an address.
    op.alter_column("login_failures", "email_key", type_=sa.Text)
    keys = connection.execute(sa.text("SELECT DISTINCT email_key FROM login_failures")).scalars()
    renamed = [{"old": key, "new": email_key(key)} for key in keys if email_key(key) != key]
    if renamed:
        connection.execute(
            sa.text("UPDATE login_failures SET email_key = :new WHERE email_key = :old"), renamed
        )


def downgrade() -> None:
    op.alter_column("login_failures", "email_key", type_=sa.String(320))
    op.create_index("users_email_lower_key", "users", [sa.text("lower(email)")], unique=True)
    op.drop_index("users_email_identity_key", table_name="users")
    op.drop_column("users", "email_identity")
