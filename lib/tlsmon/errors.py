"""Every exception the library raises, in one tree.

str(exc) is always one line, fit for a monitoring status line.
"""

from __future__ import annotations


class TlsmonError(Exception):
    """Base class of all tlsmon errors."""


class CodecError(TlsmonError):
    """The TLS codec could not make sense of the bytes."""


class DecodeError(CodecError):
    """Peer bytes are not a valid structure."""

    def __init__(self, what: str, offset: int, reason: str) -> None:
        super().__init__(f"{what}: {reason} at offset {offset}")
        self.what = what
        self.offset = offset
        self.reason = reason


class LimitExceeded(DecodeError):
    """A declared length is over what we accept (rejected before allocating)."""


class UnexpectedMessage(CodecError):
    """A valid message in a state where it is not allowed."""


class DecryptError(CodecError):
    """An AEAD tag failed to verify, or there are no keys for the record."""


class HandshakeVerifyError(CodecError):
    """CertificateVerify or Finished did not verify."""


class ProbeError(TlsmonError):
    """An active probe could not complete; ``phase`` names where it stopped."""

    kind = "error"

    def __init__(self, message: str, phase: str = "") -> None:
        super().__init__(message)
        self.phase = phase


class DnsFailed(ProbeError):
    kind = "dns"


class ConnectFailed(ProbeError):
    kind = "refused"


class ProbeTimeout(ProbeError):
    kind = "timeout"


class ConnectionReset(ProbeError):
    kind = "reset"


class NotTls(ProbeError):
    kind = "not_tls"


class UsageError(TlsmonError):
    """Bad options or arguments given by the user."""


class CertificateFileError(TlsmonError):
    """A certificate file is missing, unreadable, or holds no certificate we can read."""


class RevocationError(TlsmonError):
    """A revocation check cannot be attempted: no responder URL, or unreadable input certificates."""


class CaptureError(TlsmonError):
    """A capture file or stream could not be read."""


class UnknownCaptureFormat(CaptureError):
    """The magic number names no format we read."""


class TruncatedCapture(CaptureError):
    """The capture ends inside a record or block."""


class CorruptCapture(CaptureError):
    """A record or block is malformed (impossible length, bad block type, ...)."""
