"""A thiduad whose api is tcp with CURVE, and a key for every principal of the shipped
configuration (plus an auditor, kiem.toan of the city): requests sent as a principal go
over tcp with its own key, so the key, not an 'as' member, says who acts."""
import json
import os
import re
import socket
import tempfile

import zmq

from harness import CONFIG, Daemon, write

AUDITOR = ('  { name = "kiem.toan"; display_name = "Kiểm Toán"; unit = "HCM"; roles = [ "auditor" ]; },\n')


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Keyed:
    """Use as a context manager: yields itself, with .d the Daemon."""

    def __init__(self, start_at="2024-11-10T09:00:00+07:00", auditor=True, events=False):
        self.tmp = tempfile.TemporaryDirectory()
        self.server_pub, server_sec = zmq.curve_keypair()
        key_file = os.path.join(self.tmp.name, "thiduad.key")
        write(key_file, server_sec.decode() + "\n")
        os.chmod(key_file, 0o600)
        self.port = free_port()
        self.events_port = free_port() if events else None
        text = open(CONFIG, encoding="utf-8").read()
        ev = f'\n  events = "tcp://127.0.0.1:{self.events_port}";' if events else ""
        text = text.replace("daemon = {", f'daemon = {{\n  api = "tcp://127.0.0.1:{self.port}";{ev}\n'
                            f'  curve_key_file = "{key_file}";\n  requests_per_second = 0;', 1)
        i = text.index("\nprincipals = (") + 1
        j = text.index("\n);", i)
        block = text[i:j]
        if auditor:
            block = block.replace("principals = (\n", "principals = (\n" + AUDITOR, 1)
        self.keys = {}

        def keyed(m):
            pub, sec = zmq.curve_keypair()
            self.keys[m.group(1)] = (pub, sec)
            return m.group(0) + f' public_key = "{pub.decode()}";'
        block = re.sub(r'name = "([a-z.]+)";', keyed, block)
        text = text[:i] + block + text[j:]
        self.config = os.path.join(self.tmp.name, "keyed.cfg")
        write(self.config, text)
        self.d = Daemon(config=self.config, start_at=start_at)
        self.socks = {}

    def __enter__(self):
        self.d.start()
        return self

    def __exit__(self, *exc):
        for s in self.socks.values():
            s.close()
        self.d.close()
        self.tmp.cleanup()

    def sock(self, name):
        if name not in self.socks:
            pub, sec = self.keys[name]
            s = zmq.Context.instance().socket(zmq.DEALER)
            s.setsockopt(zmq.LINGER, 0)
            s.setsockopt(zmq.RCVTIMEO, 20000)
            s.curve_serverkey = self.server_pub
            s.curve_publickey = pub
            s.curve_secretkey = sec
            s.connect(f"tcp://127.0.0.1:{self.port}")
            self.socks[name] = s
        return self.socks[name]

    def subscriber(self, name):
        """a SUB socket on the tcp events endpoint with the principal's key, subscribed to all"""
        pub, sec = self.keys[name]
        s = zmq.Context.instance().socket(zmq.SUB)
        s.setsockopt(zmq.LINGER, 0)
        s.curve_serverkey = self.server_pub
        s.curve_publickey = pub
        s.curve_secretkey = sec
        s.setsockopt(zmq.SUBSCRIBE, b"")
        s.connect(f"tcp://127.0.0.1:{self.events_port}")
        self.socks["sub:" + name] = s
        return s

    def call(self, name, op, /, files=(), **fields):
        """op as the principal name, over tcp with its key; "admin": the local socket"""
        if name == "admin":
            return self.d.call(op, files=files, **fields)
        req = dict(fields, op=op)
        if files:
            req["files"] = [n for n, _ in files]
        s = self.sock(name)
        s.send_multipart([b"", json.dumps(req).encode()] + [data for _, data in files])
        return json.loads(s.recv_multipart()[-1])
