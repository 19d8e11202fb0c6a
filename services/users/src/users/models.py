"""Tables of the users service; the schema itself is made by Alembic migrations."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
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

#: One login's chain of refresh tokens. Revoking it (logout, reuse, password
#: change) ends every token in it at once, including one issued concurrently.
refresh_families = Table(
    "refresh_families",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column(
        "user_id",
        BigInteger,
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    #: When its newest token expires (revoking sets it to now): then the family may be deleted.
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
    Column("revoked_at", DateTime(timezone=True)),
)

#: Refresh tokens, stored only as the SHA-256 of the token (the primary key is its index).
refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_hash", LargeBinary(32), primary_key=True),
    Column(
        "family_id",
        Uuid,
        ForeignKey("refresh_families.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
    #: Set when the token was exchanged for the next one; presenting it again is reuse.
    Column("spent_at", DateTime(timezone=True)),
)
