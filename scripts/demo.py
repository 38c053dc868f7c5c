#!/usr/bin/env python
"""`make demo`: start the three services, play the contract's story over HTTP, stop them.

Every step prints who calls whom and what came back; the exit code is 0 only if every step
behaved as the contract says. The services run under gunicorn on free loopback ports with fresh
databases and fresh signing keys in a temporary directory, so the demo never touches `make up`'s
data and never collides with running services.
"""
from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

from shopdev.processes import database_prefix
from shopdev.shop import Shop
from shopdev.story import StoryFailure, play_story



def capture_token(shop: Shop, method: str, path: str, *, audience: str = "product", scope: str = "products:read") -> str:
    """What `python manage_all.py ms-token --from billing --to <audience> ...` prints, made with the
    demo's billing key: the token an eavesdropper would have captured on the wire."""
    return shop.mint("billing", audience=audience, scope=scope, method=method, path=path)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=["gunicorn", "runserver"], default="gunicorn")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="shop-demo-") as tmp:
        print("Starting user, product and billing (fresh databases, fresh keys)...", flush=True)
        started = time.monotonic()
        shop = Shop(Path(tmp), db_prefix=database_prefix("demo"), server=args.server, workers=2)
        try:
            shop.start()
            for service, url in shop.urls.items():
                print(f"  {service:<8} {url}")
            print(f"  ready in {time.monotonic() - started:.1f}s\n")
            staff_password = "staff-" + secrets.token_hex(6)
            shop.manage("user", "seed_demo", env={"DEMO_STAFF_PASSWORD": staff_password})
            result = play_story(
                shop.urls,
                staff_username="staff",
                staff_password=staff_password,
                capture_token=lambda method, path, **target: capture_token(shop, method, path, **target),
                say=lambda line: print(line, flush=True),
                alice_username="alice",
            )
        except StoryFailure as failure:
            print(f"\nFAILED: {failure}\n\nLast service log lines:\n{shop.logs(15)}", file=sys.stderr)
            return 1
        except Exception as error:  # a service that would not start, a refused connection...
            print(f"\nFAILED: {type(error).__name__}: {error}\n\n{shop.logs(15)}", file=sys.stderr)
            return 1
        finally:
            shop.stop()
            print("\nservices stopped", flush=True)
    print(
        f"\nAll six steps behaved: bill #{result.bill['id']} for {result.bill['total']} {result.bill['currency']}, "
        f"delivery {result.delivery['tracking_code']} (address read with alice's transaction token; without "
        f"one: {result.no_txn_token_refusal['code']!r}), rewritten query refused with "
        f"{result.query_refusal['code']!r}, replay refused with {result.replay_refusal['code']!r}."
    )
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main(sys.argv[1:]))
