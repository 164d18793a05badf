"""CcoHooksError: the one error type; its text is exactly the message meant for the user."""

import pytest

from cco_hooks.errors import CcoHooksError


def test_the_message_is_the_whole_text():
    message = 'Unknown model "sonet" for agent "code-reviewer" in .claude/cco-hooks.yaml; expected one of haiku.'
    error = CcoHooksError(message)
    assert str(error) == error.message == message and error.args == (message,)


def test_it_is_raised_and_caught_as_an_exception():
    with pytest.raises(Exception, match="^explain needs a payload$"):
        raise CcoHooksError("explain needs a payload")
