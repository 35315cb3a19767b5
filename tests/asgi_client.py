"""Requests to the whole ASGI application, in process, without a server."""

from asgiref.testing import ApplicationCommunicator

from fxsite import asgi


async def asgi_request(path: str, *, headers=(), method: str = "GET", body: bytes = b"") -> dict:
    """One request to the project's ASGI application, as Daphne makes it:
    the response's status, headers (lower-case names) and body."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    communicator = ApplicationCommunicator(asgi.application, scope)
    await communicator.send_input({"type": "http.request", "body": body})
    start = await communicator.receive_output(10)
    response = {
        "status": start["status"],
        "headers": {k.lower(): v for k, v in start["headers"]},
        "body": b"",
    }
    while True:
        message = await communicator.receive_output(10)
        response["body"] += message.get("body", b"")
        if not message.get("more_body"):
            break
    await communicator.wait(10)
    return response
