"""A lean HTTP/1.1 load client: keep-alive connections over asyncio streams.

httpx costs several milliseconds of CPU per request, which on a 2-core
machine takes a good part of the CPU the server under test needs. This client
writes a request and reads its answer with a few stream calls (about a tenth
of that), so a burst's figures are the server's. It speaks just what the
benches need: one request at a time per connection, bodies with
``Content-Length``, no redirects, no TLS.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit


class HttpError(RuntimeError):
    pass


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str):
        self.reader = reader
        self.writer = writer
        self.host = host

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        answer: dict[str, str] = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                answer[name.strip().lower()] = value.strip()
        if "content-length" not in answer:
            raise HttpError(f"no Content-Length in the answer to {method} {path}")
        content = await self.reader.readexactly(int(answer["content-length"]))
        return status, answer, content

    def close(self) -> None:
        self.writer.close()


class Pool:
    """``size`` keep-alive connections to one server; each request borrows one."""

    def __init__(self, base_url: str, size: int, headers: dict[str, str] | None = None):
        url = urlsplit(base_url)
        self.host, self.port = url.hostname, url.port or 80
        self.size = size
        self.headers = headers or {}
        self._idle: asyncio.Queue[Connection] = asyncio.Queue()

    async def __aenter__(self) -> Pool:
        for _ in range(self.size):
            reader, writer = await asyncio.open_connection(self.host, self.port)
            self._idle.put_nowait(Connection(reader, writer, f"{self.host}:{self.port}"))
        return self

    async def __aexit__(self, *exc) -> None:
        while not self._idle.empty():
            self._idle.get_nowait().close()

    async def request(self, method: str, path: str, body: bytes = b"", headers=None):
        connection = await self._idle.get()
        try:
            result = await connection.request(
                method, path, body, {**self.headers, **(headers or {})}
            )
        except BaseException:
            connection.close()  # its stream state is unknown: replace it
            reader, writer = await asyncio.open_connection(self.host, self.port)
            self._idle.put_nowait(Connection(reader, writer, connection.host))
            raise
        self._idle.put_nowait(connection)
        return result

    async def post_json(self, path: str, data) -> tuple[int, dict]:
        status, _headers, content = await self.request(
            "POST", path, json.dumps(data).encode(), {"Content-Type": "application/json"}
        )
        return status, json.loads(content)
