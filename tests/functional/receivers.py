"""Real notification receivers on loopback: HTTP servers and an SMTP server.

HttpReceiver answers each POST with the next of its `answers` (the last
one repeats): an HTTP status, or "hang" (read the request, never answer
until close()). Every request is kept with its headers and exact body.
SmtpReceiver is aiosmtpd's controller with a handler that keeps messages
and refuses the recipients it is told to.
"""

import email
import email.policy
import hashlib
import hmac
import http.server
import json
import socket
import threading

from aiosmtpd.controller import Controller


class HttpReceiver:
    def __init__(self, answers=(200,)):
        self.answers = list(answers)
        self.requests = []
        self.arrived = threading.Condition()
        self.released = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.arrived:
                    index = len(receiver.requests)
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers),
                                              "body": body})
                    receiver.arrived.notify_all()
                answer = receiver.answers[min(index, len(receiver.answers) - 1)]
                if answer == "hang":
                    receiver.released.wait(60)
                    return
                self.send_response(answer)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/hook" % self.server.server_address[1]

    def wait_for(self, count, timeout=10):
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)

    def payloads(self):
        return [json.loads(r["body"]) for r in self.requests]

    def close(self):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


def verify(secret, request):
    """What a receiver does: HMAC-SHA256 of the exact body, compared in constant time."""
    expected = "sha256=" + hmac.new(secret.encode(), request["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, request["headers"].get("X-Radar-Signature", ""))


class _Handler:
    def __init__(self, refuse):
        self.refuse = set(refuse)
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                              "message": msg})
        return "250 Message accepted"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpReceiver:
    def __init__(self, refuse=()):
        self.handler = _Handler(refuse)
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    @property
    def messages(self):
        return self.handler.messages

    def close(self):
        self.controller.stop()
