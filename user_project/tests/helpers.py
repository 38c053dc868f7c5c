"""Assertions shared by the tests."""


def assert_error(response, status, code=None):
    """A refusal in the shape every service uses."""
    assert response.status_code == status, response.content
    body = response.json()
    assert isinstance(body.get("detail"), str) and body["detail"]
    assert not body["detail"].startswith("{"), "a nested error rendered as text"
    assert isinstance(body.get("code"), str) and body["code"]
    if code is not None:
        assert body["code"] == code, body
    return body
