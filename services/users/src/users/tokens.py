"""Issuing tokens: a signed access token next to the session's refresh token."""

import time

from flotilla.auth import ADMIN_ROLE
from users.keys import SigningKeys
from users.repository import UserRecord
from users.schemas import Token
from users.sessions import Session
from users.settings import UsersSettings


class TokenIssuer:
    def __init__(self, keys: SigningKeys, settings: UsersSettings) -> None:
        self.keys = keys
        self.issuer = settings.token_issuer
        self.audience = settings.token_audience
        self.lifetime_seconds = settings.access_token_minutes * 60
        self.refresh_lifetime_seconds = settings.refresh_token_days * 24 * 60 * 60

    def issue(self, session: Session) -> Token:
        return Token(
            access_token=self.access_token(session.user),
            expires_in=self.lifetime_seconds,
            refresh_token=session.refresh_token,
            refresh_expires_in=self.refresh_lifetime_seconds,
        )

    def access_token(self, user: UserRecord) -> str:
        now = int(time.time())
        claims = {
            "sub": str(user.id),
            "iat": now,
            "exp": now + self.lifetime_seconds,
            "iss": self.issuer,
            "aud": self.audience,
            "roles": [ADMIN_ROLE] if user.is_admin else [],
        }
        return self.keys.sign(claims)
