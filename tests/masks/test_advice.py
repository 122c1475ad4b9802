"""What a mask error advises is what to write, and it parses: a list written ``1, 2`` (commas and
spaces, as other tools spell lists) is advised as ``1;2``, never as ``1,2`` that the next run
would refuse in turn."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ivrhooks import ActionRequest, MaskError
from ivrhooks.cli import main
from ivrhooks.core.masks import parse_mask
from ivrhooks.core.types import Kind
from tests.conftest import new_app


async def handler(req: ActionRequest) -> object:
    return "100"


ADVISED = [
    ("1, 2", "DTMF", "1;2"),
    ("1,2", "DTMF", "1;2"),
    ("1,2, 3000-4000", "DTMF", "1;2;3000-4000"),
    (" 101", "DTMF", "101"),
    ("1 01", "DTMF", "101"),
    ("5551234, 5559876", "CALLER", "5551234;5559876"),
    ("1-100", "DTMF", "1-9;10-99;100"),
    ("4000-3000", "DTMF", "3000-4000"),
]


@pytest.mark.parametrize(("mask", "kind", "advice"), ADVISED, ids=[m for m, _, _ in ADVISED])
def test_the_advice_is_what_to_write_and_it_parses(mask: str, kind: Kind, advice: str) -> None:
    app = new_app()
    declare = app.dtmf if kind == "DTMF" else app.caller
    with pytest.raises(MaskError) as caught:
        declare(mask)(handler)
    assert caught.value.advice == advice
    assert f"write it as {advice!r}" in str(caught.value) or repr(advice) in str(caught.value)
    # Following the advice is the end of it: the advised text is a mask the app accepts.
    assert parse_mask(advice, kind).text == advice
    declare(advice)(handler)


@pytest.mark.parametrize("mask", ["1, 1", "ALL, 1", "1-100, 5", " "])
def test_no_advice_where_no_spelling_would_parse(mask: str) -> None:
    with pytest.raises(MaskError) as caught:
        parse_mask(mask, "DTMF")
    assert caught.value.advice is None
    assert "write it as" not in str(caught.value)
    print(caught.value)


def test_a_person_following_the_advice_in_the_terminal_gets_a_working_app(
    tmp_path: Path,
) -> None:
    source = (
        "from ivrhooks import IVRHooks\n"
        "app = IVRHooks(receptionists=['8000'])\n"
        "@app.dtmf({mask!r})\n"
        "async def menu(req):\n"
        "    return '100'\n"
    )
    path = tmp_path / "menu_app.py"
    path.write_text(source.format(mask="1, 2"))
    refused = CliRunner().invoke(main, ["routes", str(path)])
    assert refused.exit_code == 1, refused.output
    [error] = [line for line in refused.output.splitlines() if line.startswith("Error:")]
    assert "write it as '1;2'" in error, error
    path.write_text(source.format(mask="1;2"))
    accepted = CliRunner().invoke(main, ["routes", str(path)])
    assert accepted.exit_code == 0, accepted.output
    assert "1;2" in accepted.output
