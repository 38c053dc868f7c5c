"""The repo's own harness (not installed anywhere but this checkout's dev environment): the shop
as real processes (``processes``, ``shop``) and the contract's story played over HTTP
(``story``), shared by the system tests, `make demo`, `make load` and `make bench`."""
