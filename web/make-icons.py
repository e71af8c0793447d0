#!/usr/bin/env python3
"""Draws web/app/icon-192.png and icon-512.png (a runway on blue) with the
standard library only, so the committed icons can be reproduced."""
import os
import struct
import zlib


def png(size, path):
    rows = []
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            r, g, b = 11, 95, 255
            cx = abs(x - size / 2)
            if size * 0.18 < y < size * 0.82 and cx < size * 0.22:
                r, g, b = 40, 44, 52
                if cx < size * 0.025 and int(y / (size * 0.08)) % 2 == 0:
                    r, g, b = 255, 255, 255
            row += bytes([r, g, b])
        rows.append(bytes(row))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    body = zlib.compress(b"".join(rows), 9)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))


here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "app")
png(192, os.path.join(here, "icon-192.png"))
png(512, os.path.join(here, "icon-512.png"))
