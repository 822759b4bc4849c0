"""Shared test infrastructure: a test PKI and real TLS peers on loopback.

- pki: server identities (rsa/ecdsa, chains of 1-3 certificates) and client CAs, as PEM files
- pyserver: a Python ssl server thread (PyTLSServer)
- openssl_server: `openssl s_server -www` as a subprocess (OpenSSLServer)
- hostile: refusing, silent, plain-HTTP, resetting, alerting and stalling peers
- tools: require_tool() and friends (skip on a user's machine, fail when CI=true)

The pytest fixtures built on these live in tests/conftest.py.
"""
