"""tlsmon: TLS monitoring plugins (certificates, handshakes, client-certificate requests)."""

__version__ = "0.1.0"

__all__ = ["__version__"]
