"""thidua-webhook on its own: the real worker against a fake thiduad (a ZeroMQ ROUTER bound
here, speaking docs/JOBS.md) and a real HTTP receiver on loopback. What each chat service
would get is read from the bodies received. Waiting is always for an event, bounded."""
import http.server
import json
import re
import threading
import time

from harness import eq
from test_mail_worker import Worker


class Receiver:
    """An HTTP server keeping every POST (path, body as JSON); answers 200."""

    def __init__(self):
        self.posts, self.lock = [], threading.Lock()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer.lock:
                    outer.posts.append((self.path, json.loads(body), time.monotonic()))
                payload = b'{"ok":true}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def bodies(self, path=None):
        with self.lock:
            return [b for p, b, _ in self.posts if path is None or p == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def job(job_id, payload, lease=120):
    return {"type": "job", "job": job_id, "attempt": 1, "lease": lease, "payload": payload}


def test_telegram_default_pace_keeps_a_group_within_20_messages_a_minute():
    """Issue 13 item 22: Telegram lets a bot send at most 20 messages a minute to one group.
    The default pace (no rate or burst in the channel) must hold that: in any minute, the
    burst plus a minute of the rate is at most 20. 25 messages to one group at once: the
    burst goes, the others are answered retry (their wait would outlast the short lease)
    naming the pace; another group of the same bot has its own."""
    http = Receiver()
    try:
        with Worker(capacity=64, verbose="-v", kind="webhook") as w:
            url = http.url("/bot123:ABC/sendMessage")
            ch = lambda chat: {"name": "tg", "kind": "telegram", "url": url, "chat_id": chat, "timeout": 1}
            for i in range(25):
                w.send(job(f"g{i}", {"channel": ch("-1001"), "dedup_key": f"k/g/{i}", "title": "Nhắc hạn", "text": f"tin {i}"},
                       lease=6))
            for i in range(3):
                w.send(job(f"h{i}", {"channel": ch("-1002"), "dedup_key": f"k/h/{i}", "title": "Nhắc hạn", "text": f"tin {i}"},
                       lease=6))
            res = w.results(28)
            sent = [j for j, r in res.items() if r["status"] == "sent"]
            paced = [r for r in res.values() if r["status"] == "retry"]
            eq(sorted(j for j in sent if j.startswith("h")), ["h0", "h1", "h2"], "the other group, on its own pace")
            eq(len(sent) + len(paced), 28, f"every job answered: {res}")
            m = re.search(r"paced at ([0-9.]+) posts/s \(burst ([0-9.]+)\)", paced[0]["reason"] if paced else "")
            assert m, f"the jobs past the burst are answered with the pace: {list(res.values())[-1]}"
            rate, burst = float(m.group(1)), float(m.group(2))
            assert burst + 60 * rate <= 20, f"{burst} at once and {rate}/s make {burst + 60 * rate} in a minute"
            eq(len([j for j in sent if j.startswith("g")]), int(burst), "posted to the first group at once")
            assert all(r["retry_after"] >= 1 / rate - 1 for r in paced), paced
            eq(len(http.bodies()), len(sent), "posts received")
    finally:
        http.close()


NAME = "Ủy ban nhân dân xã @channel [Bấm vào đây](https://lua-dao.example/dang-nhap) ||bí mật||"
REASON = ("Lý do trả lại: @here @all @everyone <!channel> <users/all> <https://lua-dao.example|Cổng dịch vụ công>"
          " *gấp* _ngay_ ~~hủy~~ `mã` <@123456>\n# Tiêu đề\n-# nhỏ\nHộp thư vanthu@cuchi.example.org, #12")
ZWSP = "\u200b"


def test_markup_and_mentions_from_outside_read_literally_in_every_chat_kind():
    """Issue 13 item 19: a unit name or a return reason holding mentions (@channel, @here,
    @all, @everyone, <users/all>, <!channel>), links whose text hides the URL, emphasis or
    spoilers must reach each chat service escaped its own way, so that it shows the text as
    written: undoing the kind's escape gives the text back, and no live markup is left."""
    http = Receiver()
    want = NAME + "\n" + REASON
    try:
        with Worker(capacity=64, verbose="-v", kind="webhook") as w:
            kinds = ["slack", "mattermost", "teams", "discord", "googlechat", "telegram"]
            for kind in kinds:
                ch = {"name": kind, "kind": kind, "url": http.url(f"/{kind}")}
                if kind == "telegram":
                    ch["chat_id"] = "-1001"
                w.send(job(kind, {"channel": ch, "dedup_key": f"k/{kind}", "title": NAME, "text": REASON}))
            res = w.results(len(kinds))
            for kind in kinds:
                eq(res[kind]["status"], "sent", f"{kind}: {res[kind]}")
            body = {kind: http.bodies(f"/{kind}")[0] for kind in kinds}

            # Slack: &, <, > as entities, mrkdwn off
            s = body["slack"]
            eq(s["mrkdwn"], False, "slack: mrkdwn off")
            assert "<" not in s["text"] and ">" not in s["text"], s["text"]
            eq(s["text"].replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"), want, "slack reads")

            # the Markdown kinds: a backslash before each markup character, U+200B in mentions
            def unescape_md(t):
                return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", t).replace(ZWSP, "")

            def live_markup(t):
                """markup characters not escaped by a backslash"""
                return re.findall(r"(?<!\\)(?:\\\\)*([*_\[\]|<>`~])", t)

            mm = body["mattermost"]["text"]
            eq(unescape_md(mm), want, "mattermost reads")
            eq(live_markup(mm), [], f"mattermost: live markup in {mm!r}")
            assert not re.search(r"(?<![\w.])@(channel|here|all|everyone)\b", mm, re.I), mm
            assert "vanthu@cuchi.example.org" in mm, "an address is not a mention: left whole"

            dc = body["discord"]
            eq(dc["allowed_mentions"], {"parse": []}, "discord: no pings")
            eq(unescape_md(dc["content"]), want, "discord reads")
            eq(live_markup(dc["content"]), [], f"discord: live markup in {dc['content']!r}")
            assert not re.search(r"(?<![\w.])@(here|everyone)\b", dc["content"], re.I), dc["content"]
            assert "\n\\# Tiêu đề\n\\-# nhỏ" in dc["content"], dc["content"]

            blocks = body["teams"]["attachments"][0]["content"]["body"]
            eq([unescape_md(b["text"]) for b in blocks], [NAME, REASON], "teams reads")
            for b in blocks:
                assert not re.findall(r"(?<!\\)(?:\\\\)*([*_\[\]])", b["text"]), b["text"]

            gc = body["googlechat"]["text"]
            eq(gc.replace(ZWSP, ""), want, "google chat reads")
            assert "<users/" not in gc and "<https://" not in gc, gc

            tg = body["telegram"]
            eq((tg["text"], "parse_mode" in tg), (NAME + "\n\n" + REASON, False), "telegram: plain text, as is")
    finally:
        http.close()
