"""A minimal service built on the library, used by the library's own tests."""

from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select

from flotilla.app import create_service_app
from flotilla.auth import AdminPrincipal, CurrentPrincipal, StaticKeySet, TokenVerifier
from flotilla.db import Database, DatabaseDep
from flotilla.settings import Environment, ServiceSettings
from flotilla.testing.pytest_plugin import AppFactory
from flotilla.testing.settings import settings_for_test
from flotilla.testing.tokens import TEST_AUDIENCE, TEST_ISSUER, SigningKey, jwks

#: ``pytester`` runs whole pytest sessions, for the plugin's own tests.
pytest_plugins = ["pytester"]

notes = Table(
    "notes",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("text", String(200), nullable=False),
)


class NoteIn(BaseModel):
    text: str


router = APIRouter()


@router.post("/notes", status_code=201)
async def add_note(note: NoteIn, db: DatabaseDep) -> dict[str, Any]:
    async with db.transaction() as tx:
        note_id = await tx.fetch_value(insert(notes).values(text=note.text).returning(notes.c.id))
    return {"id": note_id, "text": note.text}


@router.get("/notes/count")
async def count_notes(db: DatabaseDep) -> dict[str, int]:
    return {"count": await db.fetch_value(select(func.count()).select_from(notes))}


@router.get("/whoami")
async def whoami(principal: CurrentPrincipal) -> dict[str, Any]:
    return {"user_id": principal.user_id, "roles": sorted(principal.roles)}


@router.get("/admin-only")
async def admin_only(principal: AdminPrincipal) -> dict[str, bool]:
    return {"admin": principal.is_admin}


@router.get("/boom")
async def boom() -> None:
    raise RuntimeError("secret internals: password=hunter2")


def build_app(settings: ServiceSettings, verifier: TokenVerifier) -> FastAPI:
    return create_service_app(
        name="notes",
        version="0",
        settings=settings,
        routers=[router],
        database=Database(settings),
        token_verifier=verifier,
    )


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return SigningKey()


@pytest.fixture
def verifier(signing_key: SigningKey) -> TokenVerifier:
    return TokenVerifier(
        StaticKeySet(jwks([signing_key])), issuer=TEST_ISSUER, audience=TEST_AUDIENCE
    )


def settings_for(database_url: str, **overrides: Any) -> ServiceSettings:
    """Test settings on ``database_url`` with ``overrides``, never read from the environment."""
    return settings_for_test(
        ServiceSettings, environment=Environment.TEST, database_url=database_url, **overrides
    )


@pytest.fixture
def settings(database_url: str) -> ServiceSettings:
    return settings_for(database_url)


@pytest.fixture
def service_app_factory(verifier: TokenVerifier) -> AppFactory:
    return lambda settings: build_app(settings, verifier)
