"""A DNS responder for the lab gateway: answers every query NXDOMAIN at once, so no lookup leaves the lab.

Docker's embedded DNS forwards names it does not know (e.g. a service whose task is not healthy yet) to the
daemon's resolvers; on a real cluster those answer NXDOMAIN quickly, in the lab nothing would answer.
Run: python3 ops/lab/dns.py ADDRESS LAB_DIR (inside the lab's bridge namespace; LAB_DIR marks whose process it is).
"""
from __future__ import annotations

import socket
import sys


def nxdomain(query: bytes) -> bytes | None:
    """The reply to a DNS query: same id and question, QR=1, RD/RA kept, RCODE=3 (NXDOMAIN), no answers."""
    if len(query) < 12:
        return None
    flags = int.from_bytes(query[2:4], "big")
    opcode_rd = flags & 0x7900            # opcode + RD bit, as the client sent them
    reply_flags = 0x8000 | opcode_rd | 0x0080 | 3
    qdcount = query[4:6]
    header = query[0:2] + reply_flags.to_bytes(2, "big") + qdcount + b"\0\0\0\0\0\0"
    return header + _question(query)


def _question(query: bytes) -> bytes:
    """The question section (name + type + class) of a single-question query; empty if malformed."""
    i = 12
    while i < len(query) and query[i] != 0:
        if query[i] & 0xC0:
            return b""
        i += query[i] + 1
    end = i + 5
    return query[12:end] if end <= len(query) else b""


def serve(address: str, port: int = 53) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((address, port))
    while True:
        data, peer = sock.recvfrom(1500)
        reply = nxdomain(data)
        if reply:
            sock.sendto(reply, peer)


if __name__ == "__main__":
    serve(sys.argv[1])
