"""Small files of each kind the attachment tests send, made here: a real PNG, a PDF's first
bytes, an Ogg Opus voice note's first page, and content that pretends to be something else."""

from __future__ import annotations

import struct
import zlib


def png(width: int = 2, height: int = 2, padding: int = 0) -> bytes:
    """A valid RGB PNG; `padding` bytes of an ancillary chunk make it as large as a test needs."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x80\x00" * width for _ in range(height))
    extra = chunk(b"tEXt", b"Comment\x00" + b"a" * padding) if padding else b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + extra
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
TEXT = "Pedido 123: 2 caixas, entrega amanhã.\n".encode()
ZIP = b"PK\x03\x04" + b"\x00" * 60


def ogg_opus() -> bytes:
    """The first Ogg page of an Opus stream (OpusHead), then an OpusTags page."""

    def page(data: bytes, sequence: int, flags: int) -> bytes:
        header = b"OggS\x00" + bytes([flags]) + struct.pack("<qII", 0, 1, sequence) + b"\x00\x00\x00\x00"
        return header + bytes([1, len(data)]) + data

    head = b"OpusHead" + bytes([1, 1]) + struct.pack("<HIhB", 312, 48000, 0, 0)
    tags = b"OpusTags" + struct.pack("<I", 6) + b"atende" + struct.pack("<I", 0)
    return page(head, 0, 2) + page(tags, 1, 0)


def ogg_vorbis() -> bytes:
    return b"OggS\x00\x02" + b"\x00" * 20 + b"\x01\x1e\x01vorbis" + b"\x00" * 40
