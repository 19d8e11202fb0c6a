"""Issuing access tokens for authenticated users."""

import time

from flotilla.auth import ADMIN_ROLE
from users.keys import SigningKeys
from users.repository import UserRecord
from users.schemas import Token
from users.settings import UsersSettings


class TokenIssuer:
    def __init__(self, keys: SigningKeys, settings: UsersSettings) -> None:
        self.keys = keys
        self.issuer = settings.token_issuer
        self.audience = settings.token_audience
        self.lifetime_seconds = settings.access_token_expire_minutes * 60

    def issue(self, user: UserRecord) -> Token:
        now = int(time.time())
        claims = {
            "sub": str(user.id),
            "iat": now,
            "exp": now + self.lifetime_seconds,
            "iss": self.issuer,
            "aud": self.audience,
            "roles": [ADMIN_ROLE] if user.is_admin else [],
        }
        return Token(access_token=self.keys.sign(claims), expires_in=self.lifetime_seconds)
