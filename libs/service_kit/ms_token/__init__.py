"""X-MS-TOKEN: per-request, single-use, Ed25519-signed service-to-service tokens.

See ``libs/README.md`` for the claims, the checks and their order.
"""
