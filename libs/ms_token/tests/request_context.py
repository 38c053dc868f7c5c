"""The test bed's ``MS_TOKEN["PEER_HEADERS"]``: a request id set by a test rides on every call to a
peer, as a project's own request-id middleware would provide it."""
import contextvars

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def peer_headers() -> dict[str, str]:
    current = request_id.get()
    return {"X-Request-ID": current} if current else {}
