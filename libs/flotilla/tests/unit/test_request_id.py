import pytest

from flotilla.request_id import accept_or_generate


@pytest.mark.parametrize("candidate", ["abc", "A-b_c.9", "x" * 128])
def test_a_well_formed_inbound_id_is_kept(candidate: str) -> None:
    assert accept_or_generate(candidate) == candidate


@pytest.mark.parametrize("candidate", [None, "", "x" * 129, "has space", "semi;colon", "ünï"])
def test_a_missing_or_malformed_id_is_replaced(candidate: str | None) -> None:
    generated = accept_or_generate(candidate)

    assert generated != candidate
    assert len(generated) == 32
    assert generated.isalnum()


def test_generated_ids_are_unique() -> None:
    assert len({accept_or_generate(None) for _ in range(100)}) == 100
