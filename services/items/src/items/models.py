"""The items table; the schema itself is made by the Alembic migrations.

Declared as a Core ``Table``, the style of every Flotilla service (``flotilla.db``).
``owner_id`` has no foreign key: users live in another service's database.
"""

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Identity,
    Index,
    MetaData,
    String,
    Table,
    func,
)

NAME_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 2000
#: Prices are bigint cents.
PRICE_MAX = 2**63 - 1

metadata = MetaData()

items = Table(
    "items",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("name", String(NAME_MAX_LENGTH), nullable=False),
    Column("description", String(DESCRIPTION_MAX_LENGTH)),
    Column("price", BigInteger, nullable=False),
    Column("owner_id", BigInteger, nullable=False),
    # statement_timestamp(), not now(): two statements in one transaction get
    # different times. Updates set updated_at themselves (repository.update_item).
    Column(
        "created_at",
        DateTime(timezone=True),
        nullable=False,
        server_default=func.statement_timestamp(),
    ),
    Column(
        "updated_at",
        DateTime(timezone=True),
        nullable=False,
        server_default=func.statement_timestamp(),
    ),
    CheckConstraint("price >= 0", name="items_price_non_negative"),
    CheckConstraint("char_length(name) >= 1", name="items_name_not_empty"),
    # Serves "WHERE owner_id = ? ORDER BY id" and its count; the primary key
    # serves the unfiltered listing.
    Index("items_owner_id_id_idx", "owner_id", "id"),
)
