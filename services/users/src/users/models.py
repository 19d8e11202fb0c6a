"""Tables of the users service; the schema itself is made by Alembic migrations."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Identity,
    Index,
    MetaData,
    String,
    Table,
    Text,
    func,
    text,
)

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("email", String(320), nullable=False),
    #: ``users.emails.email_key(email)``; case folding can lengthen an address, hence Text.
    Column("email_identity", Text, nullable=False),
    Column("hashed_password", Text, nullable=False),
    Column("full_name", String(200)),
    Column("is_active", Boolean, nullable=False, server_default=text("true")),
    Column("is_admin", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # One account per email identity, enforced by the database itself.
    Index("users_email_identity_key", "email_identity", unique=True),
)

#: One failed login; the lockout counts these per email inside a time window.
login_failures = Table(
    "login_failures",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    #: ``users.emails.email_key`` of the email tried.
    Column("email_key", Text, nullable=False),
    Column(
        "failed_at",
        DateTime(timezone=True),
        nullable=False,
        server_default=func.clock_timestamp(),
    ),
    Index("login_failures_email_time", "email_key", "failed_at"),
)
