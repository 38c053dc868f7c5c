"""Bench-only endpoints, mounted by the settings overlays in bench/ and never by the services.

product (callee): ``/bench/<mode>/`` answers the same small catalogue read behind four kinds of
authentication. billing (caller): ``/bench/call/<mode>/`` makes one billing -> product call
that way and reports how long the call took, measured inside billing.
"""
