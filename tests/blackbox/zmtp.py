"""A raw ZMTP 3.0 peer for tests that must send what libzmq never sends: frames with MORE
and no last frame (libzmq flushes a message to the wire only whole). NULL mechanism over
ipc, CURVE over tcp (RFC 26, boxes from libsodium through ctypes)."""
import ctypes
import ctypes.util
import os
import socket
import struct

import zmq
from zmq.utils import z85


def _sodium():
    lib = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
    if lib.sodium_init() < 0:
        raise OSError("sodium_init failed")
    return lib


class Peer:
    """connect(endpoint) as a DEALER; send_frame(data, more) writes one frame."""

    def __init__(self, endpoint, server_key=None, public=None, secret=None, timeout=10):
        if endpoint.startswith("ipc://"):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(endpoint[6:])
        else:
            host, port = endpoint[6:].rsplit(":", 1)
            self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.curve = server_key is not None
        if self.curve:
            self.na = _sodium()
            self.server = z85.decode(server_key)
            self.public, self.secret = z85.decode(public), z85.decode(secret)
        self.nonce = 0
        mech = b"CURVE" if self.curve else b"NULL"
        self.sock.sendall(b"\xff" + b"\0" * 8 + b"\x7f" + b"\x03\x00" + mech.ljust(20, b"\0") + b"\0" * 32)
        greeting = self._read(64)
        assert greeting[0] == 0xFF and greeting[10] == 3, greeting
        if self.curve:
            self._curve_handshake()
        else:
            self._command(b"READY", self._metadata())
            name, _ = self._read_command()
            assert name == b"READY", name

    # framing ---------------------------------------------------------------
    def _read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionResetError("closed by the daemon")
            data += chunk
        return data

    def _frame(self, flags, body):
        if len(body) > 255:
            return bytes([flags | 2]) + struct.pack(">Q", len(body)) + body
        return bytes([flags, len(body)]) + body

    def _command(self, name, data):
        self.sock.sendall(self._frame(4, bytes([len(name)]) + name + data))

    def _read_command(self):
        flags = self._read(1)[0]
        size = struct.unpack(">Q", self._read(8))[0] if flags & 2 else self._read(1)[0]
        body = self._read(size)
        return body[1:1 + body[0]], body[1 + body[0]:]

    @staticmethod
    def _metadata():
        return bytes([11]) + b"Socket-Type" + struct.pack(">I", 6) + b"DEALER"

    # CURVE -----------------------------------------------------------------
    def _box(self, data, prefix, nonce, pk, sk):
        out = ctypes.create_string_buffer(len(data) + 16)
        n = prefix + nonce
        assert len(n) == 24
        rc = self.na.crypto_box_easy(out, data, ctypes.c_ulonglong(len(data)), n, pk, sk)
        assert rc == 0
        return out.raw

    def _open(self, box, prefix, nonce, pk, sk):
        out = ctypes.create_string_buffer(len(box) - 16)
        rc = self.na.crypto_box_open_easy(out, box, ctypes.c_ulonglong(len(box)), prefix + nonce, pk, sk)
        assert rc == 0, "cannot open a box from the daemon"
        return out.raw

    def _short_nonce(self):
        self.nonce += 1
        return struct.pack(">Q", self.nonce)

    def _curve_handshake(self):
        cpk, csk = ctypes.create_string_buffer(32), ctypes.create_string_buffer(32)
        self.na.crypto_box_keypair(cpk, csk)
        self.cpk, self.csk = cpk.raw, csk.raw
        n = self._short_nonce()
        hello = b"\x01\x00" + b"\0" * 72 + self.cpk + n + self._box(b"\0" * 64, b"CurveZMQHELLO---", n, self.server, self.csk)
        self._command(b"HELLO", hello)
        name, data = self._read_command()
        assert name == b"WELCOME", (name, data)
        plain = self._open(data[16:], b"WELCOME-", data[:16], self.server, self.csk)
        self.spk, cookie = plain[:32], plain[32:128]
        vn = os.urandom(16)
        vouch = vn + self._box(self.cpk + self.server, b"VOUCH---", vn, self.spk, self.secret)
        n = self._short_nonce()
        init = cookie + n + self._box(self.public + vouch + self._metadata(), b"CurveZMQINITIATE", n, self.spk, self.csk)
        self._command(b"INITIATE", init)
        name, data = self._read_command()
        assert name == b"READY", (name, data)

    # messages --------------------------------------------------------------
    def send_frame(self, data, more):
        if not self.curve:
            self.sock.sendall(self._frame(1 if more else 0, data))
            return
        n = self._short_nonce()
        box = self._box(bytes([1 if more else 0]) + data, b"CurveZMQMESSAGEC", n, self.spk, self.csk)
        self.sock.sendall(self._frame(4, b"\x07MESSAGE" + n + box))

    def close(self):
        self.sock.close()


def rss(pid):
    """resident memory of a process, in bytes"""
    with open(f"/proc/{pid}/status") as fp:
        for line in fp:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0
