import pytest

from flotilla.validation import storable_text


@pytest.mark.parametrize(("text", "message"), [("a\x00b", "NUL"), ("\ud800", "valid Unicode")])
def test_text_postgres_cannot_store_is_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        storable_text(text)


def test_ordinary_unicode_text_passes_unchanged() -> None:
    assert storable_text("José Ñandú 日本 🚀") == "José Ñandú 日本 🚀"
