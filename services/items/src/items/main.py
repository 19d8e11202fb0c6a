"""The items service app: ``uvicorn --factory items.main:create_app``."""

from fastapi import FastAPI

from flotilla.app import create_service_app, remote_token_verifier
from flotilla.db import Database
from flotilla.settings import load_settings
from items import __version__, api
from items.settings import ItemsSettings


def create_app(settings: ItemsSettings | None = None) -> FastAPI:
    settings = settings or load_settings(ItemsSettings)
    return create_service_app(
        name="items",
        version=__version__,
        description="Items with owners: anyone reads, owners and admins change.",
        settings=settings,
        routers=[api.router],
        database=Database(settings),
        # Tokens are verified against the public keys the users service publishes.
        token_verifier=remote_token_verifier(settings),
    )
