"""Request and response bodies of the users service."""

from datetime import datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, model_validator

from flotilla.validation import STORABLE

Password = Annotated[str, Field(min_length=8, max_length=128)]
FullName = Annotated[str, StringConstraints(max_length=200), STORABLE]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: Password
    full_name: FullName | None = None


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full_name: FullName | None = None
    password: Password | None = None
    #: Required with ``password``: a stolen access token alone cannot take the account over.
    current_password: Annotated[str, Field(max_length=1024), STORABLE] | None = None

    @model_validator(mode="after")
    def _password_needs_the_current_one(self) -> Self:
        if self.password is not None and self.current_password is None:
            raise ValueError("current_password is required to change the password")
        return self


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    full_name: str | None
    is_active: bool
    is_admin: bool
    created_at: datetime


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (a scheme name, not a secret)
    expires_in: int = Field(description="Seconds the access token stays valid")
    refresh_token: str = Field(
        description="Single use: /api/v1/auth/refresh spends it and answers the next one"
    )
    refresh_expires_in: int = Field(description="Seconds the refresh token stays valid")


class RefreshTokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(description="A refresh token from /token or /refresh")


class Jwks(BaseModel):
    keys: list[dict[str, str]]
