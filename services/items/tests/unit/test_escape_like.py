import pytest

from items.repository import escape_like


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("lamp", "lamp"),
        ("", ""),
        ("50%", "50\\%"),
        ("a_b", "a\\_b"),
        ("back\\slash", "back\\\\slash"),
        ("\\%", "\\\\\\%"),
        ("%_\\", "\\%\\_\\\\"),
        ("Äpfel 🍵", "Äpfel 🍵"),
    ],
)
def test_wildcards_and_the_escape_character_are_escaped(text: str, pattern: str) -> None:
    assert escape_like(text) == pattern


def test_escaping_does_not_touch_sql_quotes() -> None:
    # Quoting is the bound parameter's job, not the pattern's.
    assert escape_like("' OR '1'='1") == "' OR '1'='1"
