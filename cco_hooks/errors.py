"""Errors cco-hooks reports to the user (the CLI prints the message, without a traceback)."""


class CcoHooksError(Exception):
    """A failure with a message meant for the user: what went wrong and how to fix it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
