"""X-MS-TOKEN: per-request, single-use, Ed25519-signed service-to-service tokens for Django.

The format, the checks and their order, settings and adoption: the distribution's README
(``django-ms-token``). The core (keys, JWKS, mint, verify, replay stores, the client) needs no
web framework beyond Django; the DRF glue is in ``ms_token.contrib.rest_framework``.
"""

__version__ = "1.0.0"
