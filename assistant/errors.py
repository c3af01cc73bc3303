"""Errors meant for people carry a Swedish message; tracebacks are for the log."""


class AssistantError(Exception):
    """An error a person can understand and often fix. `str(err)` is Swedish."""


class ConfigurationError(AssistantError):
    """A setting is wrong or missing; the message names the variable that fixes it."""


class IngestError(AssistantError):
    """A file could not be ingested; the index is unchanged for that document."""


class ModelMismatchError(AssistantError):
    """The index was built with another embedding model than the configured one."""


class MessageTooLongError(AssistantError):
    """A chat message is longer than `max_message_chars`; the message asks the person to shorten it."""
