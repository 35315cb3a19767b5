"""Reading a history file as a stream of UTF-8 byte blocks and line chunks.

Whatever the input (a path, a binary file object such as a Django
``UploadedFile``, or a text stream), the rest of the parsers see UTF-8 bytes
with ``\\n`` line ends: a UTF-8 byte order mark is dropped, UTF-16 (with a
BOM, or recognised by its zero bytes) is decoded incrementally and re-encoded,
a first block that is not valid UTF-8 makes the file Windows-1252,
``\\r\\n`` becomes ``\\n`` and files with bare ``\\r`` line ends are translated.
Memory stays flat: the file is read in blocks and cut into chunks of whole
lines.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Iterator

import numpy as np

from .errors import ParserError

BLOCK_SIZE = 1 << 20
HEAD_LINES = 25  # lines read before the format is decided
HEAD_MAX_BYTES = 1 << 20


def _utf16_without_bom(sample: bytes) -> str | None:
    """'utf-16-le' / 'utf-16-be' when the bytes look like BOM-less UTF-16 text."""
    sample = sample[:4096]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2], sample[1::2]
    even_zero = even.count(0) / len(even)
    odd_zero = odd.count(0) / len(odd)
    if odd_zero > 0.4 and even_zero < 0.05:
        return "utf-16-le"
    if even_zero > 0.4 and odd_zero < 0.05:
        return "utf-16-be"
    return None


def _valid_utf8(block: bytes) -> bool:
    """Whether a block is UTF-8 (a character cut at the end of the block is fine)."""
    try:
        block.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(block) - 3 and exc.reason == "unexpected end of data"
    return True


class Source:
    """A readable file; ``blocks()`` yields normalised UTF-8 byte blocks."""

    def __init__(self, stream):
        self._owned = None
        if isinstance(stream, (str, os.PathLike)):
            self._file = self._owned = open(stream, "rb")  # noqa: SIM115 (closed in close())
        elif hasattr(stream, "read"):
            self._file = stream
        else:
            raise TypeError(
                f"expected a path or a readable file object, got {type(stream).__name__}"
            )
        self.encoding = "utf-8"

    def close(self) -> None:
        if self._owned is not None:
            self._owned.close()
            self._owned = None

    def _read(self) -> bytes:
        data = self._file.read(BLOCK_SIZE)
        if isinstance(data, str):  # a text stream: already decoded
            data = data.encode("utf-8", "surrogatepass")
        return data or b""

    def _raw_blocks(self) -> Iterator[bytes]:
        first = self._read()
        while 0 < len(first) < 4:  # enough bytes to see a byte order mark
            more = self._read()
            if not more:
                break
            first += more
        if first.startswith(codecs.BOM_UTF8):
            first = first[3:]
        elif first.startswith(codecs.BOM_UTF32_LE) or first.startswith(codecs.BOM_UTF32_BE):
            raise ParserError("bad_encoding", "UTF-32 files are not supported; save as UTF-8")
        elif first.startswith(codecs.BOM_UTF16_LE):
            self.encoding, first = "utf-16-le", first[2:]
        elif first.startswith(codecs.BOM_UTF16_BE):
            self.encoding, first = "utf-16-be", first[2:]
        else:
            self.encoding = _utf16_without_bom(first) or "utf-8"
            if self.encoding == "utf-8" and not _valid_utf8(first):
                self.encoding = "cp1252"  # e.g. a CSV saved by Excel on Windows
        if self.encoding == "utf-8":
            yield first
            while block := self._read():
                yield block
            return
        decoder = codecs.getincrementaldecoder(self.encoding)(errors="replace")
        block = first
        while block:
            yield decoder.decode(block).encode("utf-8", "surrogatepass")
            block = self._read()
        yield decoder.decode(b"", final=True).encode("utf-8", "surrogatepass")

    def blocks(self) -> Iterator[bytes]:
        """UTF-8 blocks with ``\\n`` line ends (``\\r`` removed or translated)."""
        bare_cr = None
        for block in self._raw_blocks():
            if not block:
                continue
            if bare_cr is None:
                bare_cr = b"\n" not in block and b"\r" in block
            yield block.replace(b"\r", b"\n") if bare_cr else block.replace(b"\r", b"")


def read_head(blocks: Iterator[bytes]) -> bytes:
    """The first bytes of the stream: at least HEAD_LINES lines when there are that many."""
    head = b""
    while head.count(b"\n") < HEAD_LINES and len(head) < HEAD_MAX_BYTES:
        block = next(blocks, None)
        if block is None:
            break
        head += block
    return head


def nth_newline(buf: bytes, n: int) -> int:
    """Offset of the n-th (1-based) newline in ``buf`` (which has at least n)."""
    if n <= 64:
        pos = -1
        for _ in range(n):
            pos = buf.index(b"\n", pos + 1)
        return pos
    return int(np.flatnonzero(np.frombuffer(buf, np.uint8) == 10)[n - 1])


def line_chunks(first: bytes, blocks: Iterator[bytes], lines_per_chunk: int) -> Iterator[bytes]:
    """Chunks of exactly ``lines_per_chunk`` ``\\n``-terminated lines (the last may be shorter).

    The last chunk gets a final ``\\n`` when the file does not end with one.
    """
    pending = [first] if first else []
    count = first.count(b"\n")
    for block in blocks:
        pending.append(block)
        count += block.count(b"\n")
        while count >= lines_per_chunk:
            buf = b"".join(pending)
            cut = nth_newline(buf, lines_per_chunk) + 1
            yield buf[:cut]
            rest = buf[cut:]
            pending = [rest] if rest else []
            count -= lines_per_chunk
    buf = b"".join(pending)
    while buf:
        if count >= lines_per_chunk:
            cut = nth_newline(buf, lines_per_chunk) + 1
            chunk, buf = buf[:cut], buf[cut:]
            count -= lines_per_chunk
        else:
            chunk, buf = buf, b""
        if not chunk.endswith(b"\n"):
            chunk += b"\n"
        yield chunk
