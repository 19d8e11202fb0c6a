"""Configuration of the users service (environment variables prefixed ``USERS_``)."""

from pathlib import Path

from pydantic import AliasChoices, EmailStr, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from flotilla.settings import ServiceSettings


class UsersSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="USERS_")

    #: PEM of the active signing key (Ed25519 or RSA >= 2048 bits), or a file holding it.
    signing_key: SecretStr | None = None
    signing_key_file: Path | None = None
    #: PEMs of public keys retired from signing; tokens they signed stay valid until expiry.
    retired_public_keys: list[str] = Field(default_factory=list)
    #: Where development mode keeps the signing key it generates.
    data_dir: Path = Path(".flotilla/users")
    #: Access tokens stay valid until they expire, even after a logout: keep them short.
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    #: Each refresh token lives this long from its issue; using it issues the next one.
    refresh_token_days: int = Field(default=14, ge=1, le=365)
    #: How often expired and revoked sessions are deleted, and at most how many rows a batch.
    session_cleanup_interval_seconds: float = Field(default=600, gt=0)
    session_cleanup_batch_size: int = Field(default=1000, ge=1)

    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=15 * 60, ge=1)
    #: Threads that may hash passwords at once; the rest of the CPU stays with requests.
    password_hash_threads: int = Field(default=1, ge=1)
    #: How much lower than request handling hashing runs (Linux nice levels): while
    #: logins hash, requests still get a core first. 0 hashes at normal priority.
    password_hash_niceness: int = Field(default=10, ge=0, le=19)
    #: Argon2id cost (pwdlib's defaults); hashes made with other costs are upgraded at login.
    password_hash_memory_kib: int = Field(default=65536, ge=1024)
    password_hash_time_cost: int = Field(default=3, ge=1)
    password_hash_parallelism: int = Field(default=4, ge=1)

    first_admin_email: EmailStr | None = Field(
        default=None,
        validation_alias=AliasChoices("first_admin_email", "USERS_FIRST_ADMIN_EMAIL"),
    )
    first_admin_password: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("first_admin_password", "USERS_FIRST_ADMIN_PASSWORD"),
    )

    def insecure_defaults(self) -> list[str]:
        insecure = super().insecure_defaults()
        if self.signing_key is None and self.signing_key_file is None:
            insecure.append(
                f"no signing key is configured; set {self.variable('signing_key')} "
                f"or {self.variable('signing_key_file')}"
            )
        return insecure
