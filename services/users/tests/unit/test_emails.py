"""An email's identity: NFKC, then case folding, over the whole address."""

import pytest

from users.emails import email_key

DOTLESS_I = "\N{LATIN SMALL LETTER DOTLESS I}"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Ada@Example.COM", "ada@example.com"),
        ("STRASSE@example.com", "straße@example.com"),
        ("ΣΊΣΥΦΟΣ@example.com", "σίσυφος@example.com"),
        ("İstanbul@example.com", "i̇stanbul@example.com"),
        ("\uff21\uff24\uff21@example.com", "ada@example.com"),  # fullwidth "ADA"
        ("ﬁle@example.com", "FILE@example.com"),
    ],
    ids=[
        "ascii-case",
        "german-sharp-s",
        "greek-final-sigma",
        "turkish-dotted-I",
        "fullwidth",
        "ligature",
    ],
)
def test_variants_of_one_address_have_one_identity(one: str, other: str) -> None:
    assert email_key(one) == email_key(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (f"{DOTLESS_I}stanbul@example.com", "istanbul@example.com"),
        ("İstanbul@example.com", "istanbul@example.com"),
        ("ada@example.com", "ada@example.co"),
    ],
    ids=["turkish-dotless-i", "turkish-dotted-I-is-not-plain-i", "other-domain"],
)
def test_different_addresses_keep_different_identities(one: str, other: str) -> None:
    assert email_key(one) != email_key(other)


def test_the_identity_is_stable_when_computed_again() -> None:
    identity = email_key("ΣΊΣΥΦΟΣ-İ-ß@Example.com")

    assert email_key(identity) == identity
