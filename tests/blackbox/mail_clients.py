"""Replies to a reminder as real mail programs write them, byte for byte in their habits:
Outlook (RFC 2231 names, quoted-printable body, HTML alternative), Gmail (RFC 2047 names
split over lines, a Content-ID on every attachment), Thunderbird (RFC 2231 continuations
for a long name, format=flowed), a phone (iPhone Mail: a photographed page inline with a
Content-ID in a multipart/mixed, the PDF, then "Sent from my iPhone" after them), a
forward with the file inside the forwarded message, a reply with no file, a bounce
(multipart/report) and an auto-reply. The test of Postfix sends them, the fuzzer's corpus
is made of them (tests/fuzz/corpus/mailin, written by tests/fuzz/mailin_corpus.py)."""
import base64
import quopri
import urllib.parse

TRUNGAN = "ubnd.trungan@cuchi.example.org"
PDF = "Nội dung báo cáo kết quả thi đua năm 2024 của xã Trung An".encode() * 50
XLSX = b"PK\x03\x04" + "Biểu tổng hợp số liệu thi đua".encode() * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8 + b"\xff\xd9"
DATE = "Fri, 01 Nov 2024 12:00:00 +0700"


def b64(data, width=76):
    s = base64.b64encode(data).decode()
    return "\r\n".join(s[i:i + width] for i in range(0, len(s), width))


def qp(text):
    return quopri.encodestring(text.encode()).decode().replace("\n", "\r\n")


def ew(text, limit=60):
    """RFC 2047 encoded words of at most limit characters each, folded as Gmail folds them."""
    words, cur = [], ""
    for ch in text:
        if len(base64.b64encode((cur + ch).encode())) > limit - 12:
            words.append(cur)
            cur = ""
        cur += ch
    words.append(cur)
    return "\r\n ".join("=?UTF-8?B?" + base64.b64encode(w.encode()).decode() + "?=" for w in words if w)


def rfc2231_continued(param, text, chunk=40):
    """param*0*=UTF-8''...; param*1*=... as Thunderbird writes a long non-ASCII name."""
    q = urllib.parse.quote(text, safe="")
    parts, i = [], 0
    while i < len(q):
        j = min(i + chunk, len(q))
        while "%" in q[j - 2:j] and j < len(q):      # never cut a %XX
            j += 1
        parts.append(q[i:j])
        i = j
    return ";\r\n ".join(f"{param}*{n}*=" + ("UTF-8''" if n == 0 else "") + p for n, p in enumerate(parts))


def outlook(to, msgid, sender=TRUNGAN, name="Báo cáo thi đua năm 2024 - xã Trung An.pdf", data=PDF):
    note = "Kính gửi Phòng GD&ĐT, xã Trung An gửi báo cáo năm 2024."
    enc = "=?utf-8?B?" + base64.b64encode(name.encode()).decode() + "?="
    q = urllib.parse.quote(name, safe="")
    raw = (f"From: =?utf-8?B?{base64.b64encode('UBND xã Trung An'.encode()).decode()}?= <{sender}>\r\n"
           f"To: {to}\r\nSubject: RE: =?utf-8?B?{base64.b64encode('Nhắc hạn báo cáo'.encode()).decode()}?=\r\n"
           f"Date: {DATE}\r\nMessage-ID: {msgid}\r\nMIME-Version: 1.0\r\n"
           "X-Mailer: Microsoft Outlook 16.0\r\nThread-Index: AQHbLk2xYz==\r\n"
           'Content-Type: multipart/mixed; boundary="----=_NextPart_000_0001_01DB2C8E.12345670"\r\n\r\n'
           "This is a multi-part message in MIME format.\r\n\r\n"
           "------=_NextPart_000_0001_01DB2C8E.12345670\r\n"
           'Content-Type: multipart/alternative; boundary="----=_NextPart_001_0002_01DB2C8E.12345670"\r\n\r\n'
           "------=_NextPart_001_0002_01DB2C8E.12345670\r\nContent-Type: text/plain; charset=\"utf-8\"\r\n"
           f"Content-Transfer-Encoding: quoted-printable\r\n\r\n{qp(note)}\r\n\r\n"
           "------=_NextPart_001_0002_01DB2C8E.12345670\r\nContent-Type: text/html; charset=\"utf-8\"\r\n"
           "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
           f"{qp('<html><body><p>' + note + '</p></body></html>')}\r\n\r\n"
           "------=_NextPart_001_0002_01DB2C8E.12345670--\r\n\r\n"
           "------=_NextPart_000_0001_01DB2C8E.12345670\r\n"
           f'Content-Type: application/pdf;\r\n\tname="{enc}"\r\n'
           "Content-Transfer-Encoding: base64\r\n"
           f"Content-Disposition: attachment;\r\n\tfilename*=utf-8''{q}\r\n\r\n{b64(data)}\r\n\r\n"
           "------=_NextPart_000_0001_01DB2C8E.12345670--\r\n")
    return raw.encode(), note, [(name, data)]


def gmail(to, msgid, sender=TRUNGAN):
    note = "Dạ em gửi báo cáo và biểu tổng hợp của xã ạ."
    name1 = "Biểu tổng hợp số liệu thi đua khen thưởng năm 2024 (xã Trung An).xlsx"
    name2 = "Ảnh chụp biên bản họp xét thi đua.jpg"
    html = b64(('<div dir="ltr">' + note + "</div>").encode())
    raw = (f"MIME-Version: 1.0\r\nDate: {DATE}\r\nMessage-ID: {msgid}\r\n"
           f"Subject: Re: {ew('[Nhắc hạn] Báo cáo kết quả thực hiện phong trào thi đua năm 2024')}\r\n"
           f"From: {ew('Văn phòng UBND xã Trung An')} <{sender}>\r\nTo: {to}\r\n"
           'Content-Type: multipart/mixed; boundary="000000000000a1b2c3062585f0aa"\r\n\r\n'
           "--000000000000a1b2c3062585f0aa\r\n"
           'Content-Type: multipart/alternative; boundary="000000000000a1b2c1062585f0a8"\r\n\r\n'
           "--000000000000a1b2c1062585f0a8\r\n"
           'Content-Type: text/plain; charset="UTF-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
           f"{b64(note.encode())}\r\n"
           "--000000000000a1b2c1062585f0a8\r\n"
           'Content-Type: text/html; charset="UTF-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
           f"{html}\r\n"
           "--000000000000a1b2c1062585f0a8--\r\n"
           "--000000000000a1b2c3062585f0aa\r\n"
           "Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet; \r\n"
           f'\tname="{ew(name1)}"\r\n'
           f'Content-Disposition: attachment; \r\n\tfilename="{ew(name1)}"\r\n'
           "Content-Transfer-Encoding: base64\r\nContent-ID: <f_m2zq1x0a0>\r\nX-Attachment-Id: f_m2zq1x0a0\r\n\r\n"
           f"{b64(XLSX)}\r\n"
           "--000000000000a1b2c3062585f0aa\r\n"
           f'Content-Type: image/jpeg; name="{ew(name2)}"\r\n'
           f'Content-Disposition: attachment; filename="{ew(name2)}"\r\n'
           "Content-Transfer-Encoding: base64\r\nContent-ID: <f_m2zq1x0b1>\r\nX-Attachment-Id: f_m2zq1x0b1\r\n\r\n"
           f"{b64(JPEG)}\r\n"
           "--000000000000a1b2c3062585f0aa--\r\n")
    return raw.encode(), note, [(name1, XLSX), (name2, JPEG)]


def thunderbird(to, msgid, sender=TRUNGAN):
    note = "Kính gửi quý cơ quan,\r\nxã Trung An gửi lại báo cáo đã ký."
    name = "Báo cáo tổng kết công tác thi đua, khen thưởng năm 2024 của Ủy ban nhân dân xã Trung An (bản ký số).pdf"
    raw = (f"Message-ID: {msgid}\r\nDate: {DATE}\r\nMIME-Version: 1.0\r\n"
           "User-Agent: Mozilla Thunderbird\r\nContent-Language: vi\r\n"
           f"To: {to}\r\nFrom: =?UTF-8?Q?UBND_x=C3=A3_Trung_An?= <{sender}>\r\n"
           "Subject: =?UTF-8?Q?Re=3a_Nh=e1=ba=afc_h=e1=ba=a1n?=\r\n"
           'Content-Type: multipart/mixed;\r\n boundary="------------0QZ2Vb9dAlB3mWnC0xK1gT4q"\r\n\r\n'
           "This is a multi-part message in MIME format.\r\n"
           "--------------0QZ2Vb9dAlB3mWnC0xK1gT4q\r\n"
           "Content-Type: text/plain; charset=UTF-8; format=flowed\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
           f"{note}\r\n\r\n"
           "--------------0QZ2Vb9dAlB3mWnC0xK1gT4q\r\n"
           f"Content-Type: application/pdf;\r\n {rfc2231_continued('name', name)}\r\n"
           f"Content-Disposition: attachment;\r\n {rfc2231_continued('filename', name)}\r\n"
           f"Content-Transfer-Encoding: base64\r\n\r\n{b64(PDF, 72)}\r\n\r\n"
           "--------------0QZ2Vb9dAlB3mWnC0xK1gT4q--\r\n")
    return raw.encode("utf-8"), note.replace("\r\n", "\n"), [(name, PDF)]


def phone(to, msgid, sender=TRUNGAN):
    note = "Gửi báo cáo năm ạ"
    photo = "IMG_2041.jpeg"
    name = "Báo cáo năm 2024.pdf"
    raw = (f"Content-Type: multipart/mixed; boundary=Apple-Mail-6D1C2E0A-9B1F-4E42-8C3A-7B0E3F5D2A11\r\n"
           "Content-Transfer-Encoding: 7bit\r\n"
           f"From: =?utf-8?Q?UBND_x=C3=A3_Trung_An?= <{sender}>\r\nMime-Version: 1.0 (1.0)\r\n"
           f"Date: {DATE}\r\nSubject: =?utf-8?Q?Re:_Nh=E1=BA=AFc_h=E1=BA=A1n?=\r\nMessage-Id: {msgid}\r\n"
           f"To: {to}\r\nX-Mailer: iPhone Mail (21G93)\r\n\r\n"
           "--Apple-Mail-6D1C2E0A-9B1F-4E42-8C3A-7B0E3F5D2A11\r\n"
           "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
           f"{qp(note)}\r\n"
           "--Apple-Mail-6D1C2E0A-9B1F-4E42-8C3A-7B0E3F5D2A11\r\n"
           f"Content-Type: image/jpeg;\r\n\tname={photo};\r\n\tx-apple-part-url=8F2B5B7E-1C2D-4C3B-9D8E-2A1B3C4D5E6F\r\n"
           f"Content-Disposition: inline;\r\n\tfilename={photo}\r\n"
           "Content-Transfer-Encoding: base64\r\nContent-Id: <8F2B5B7E-1C2D-4C3B-9D8E-2A1B3C4D5E6F>\r\n\r\n"
           f"{b64(JPEG)}\r\n"
           "--Apple-Mail-6D1C2E0A-9B1F-4E42-8C3A-7B0E3F5D2A11\r\n"
           f"Content-Type: application/pdf;\r\n\tname=\"=?utf-8?B?{base64.b64encode(name.encode()).decode()}?=\"\r\n"
           f"Content-Disposition: attachment;\r\n\tfilename=\"=?utf-8?B?{base64.b64encode(name.encode()).decode()}?=\"\r\n"
           f"Content-Transfer-Encoding: base64\r\n\r\n{b64(PDF)}\r\n"
           "--Apple-Mail-6D1C2E0A-9B1F-4E42-8C3A-7B0E3F5D2A11\r\n"
           "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n\r\n"
           "Sent from my iPhone\r\n"
           "--Apple-Mail-6D1C2E0A-9B1F-4E42-8C3A-7B0E3F5D2A11--\r\n")
    return raw.encode(), note, [(photo, JPEG), (name, PDF)]


def forward(to, msgid, sender=TRUNGAN):
    """Outlook's forward as an attachment: the unit's clerk received the report from the
    person who wrote it and forwards that message whole."""
    inner_name = "Biểu mẫu số 2 – tổng hợp.pdf"
    inner = ("From: =?utf-8?B?" + base64.b64encode("Nguyễn Văn A".encode()).decode() + "?= <canbo.a@gmail.com>\r\n"
             "To: " + sender + "\r\nSubject: =?utf-8?B?" + base64.b64encode("Báo cáo".encode()).decode() + "?=\r\n"
             f"Date: {DATE}\r\nMessage-ID: <inner-{msgid.strip('<>')}>\r\nMIME-Version: 1.0\r\n"
             'Content-Type: multipart/mixed; boundary="inner-b"\r\n\r\n'
             "--inner-b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
             f"{b64('Gửi chị bản báo cáo.'.encode())}\r\n"
             f"--inner-b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
             f"Content-Disposition: attachment; filename*=utf-8''{urllib.parse.quote(inner_name, safe='')}\r\n\r\n"
             f"{b64(PDF)}\r\n--inner-b--\r\n")
    note = "Chuyển tiếp báo cáo của xã."
    raw = (f"From: {sender}\r\nTo: {to}\r\nSubject: FW: =?utf-8?B?{base64.b64encode('Báo cáo'.encode()).decode()}?=\r\n"
           f"Date: {DATE}\r\nMessage-ID: {msgid}\r\nMIME-Version: 1.0\r\n"
           'Content-Type: multipart/mixed; boundary="outer-b"\r\n\r\n'
           "--outer-b\r\nContent-Type: text/plain; charset=\"utf-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
           f"{qp(note)}\r\n"
           "--outer-b\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n"
           f"{inner}\r\n--outer-b--\r\n")
    return raw.encode(), note, [(inner_name, PDF)]


def no_file(to, msgid, sender=TRUNGAN):
    note = "Dạ xã sẽ gửi báo cáo vào tuần sau ạ."
    raw = (f"From: {sender}\r\nTo: {to}\r\nSubject: Re: Nhac han\r\nDate: {DATE}\r\nMessage-ID: {msgid}\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
           f"In-Reply-To: <reminder@thidua>\r\n\r\n{note}\r\n\r\n> Kính gửi ...\r\n")
    return raw.encode(), note, []


def auto_reply(to, msgid, sender=TRUNGAN):
    note = "Tôi đang đi công tác đến hết ngày 05/11, sẽ trả lời khi về."
    raw = (f"From: {sender}\r\nTo: {to}\r\nSubject: =?utf-8?B?{base64.b64encode('Trả lời tự động: Nhắc hạn'.encode()).decode()}?=\r\n"
           f"Date: {DATE}\r\nMessage-ID: {msgid}\r\nAuto-Submitted: auto-replied\r\nX-Auto-Response-Suppress: All\r\n"
           "Precedence: bulk\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
           f"Content-Transfer-Encoding: 8bit\r\n\r\n{note}\r\n")
    return raw.encode(), note, []


def bounce(to, msgid, failed="nguoinhan@cuchi.example.org"):
    """A delivery status notification (RFC 3464) from a mail server, with an empty return
    path, sent to the reply address (a reminder that could not be delivered onwards)."""
    raw = ("From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\n"
           f"To: {to}\r\nSubject: Undelivered Mail Returned to Sender\r\nDate: {DATE}\r\nMessage-Id: {msgid}\r\n"
           "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
           'Content-Type: multipart/report; report-type=delivery-status; boundary="dsn-b"\r\n\r\n'
           "--dsn-b\r\nContent-Description: Notification\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
           f"I'm sorry to have to inform you that your message could not be delivered to <{failed}>.\r\n\r\n"
           "--dsn-b\r\nContent-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n"
           f"Reporting-MTA: dns; mx.example.net\r\n\r\nFinal-Recipient: rfc822; {failed}\r\nAction: failed\r\n"
           "Status: 5.1.1\r\n\r\n"
           "--dsn-b\r\nContent-Description: Undelivered Message Headers\r\nContent-Type: text/rfc822-headers\r\n\r\n"
           f"From: thidua@cuchi.example.org\r\nTo: {failed}\r\nSubject: Nhac han\r\n\r\n"
           "--dsn-b--\r\n")
    return raw.encode(), None, []


CLIENTS = {"outlook": outlook, "gmail": gmail, "thunderbird": thunderbird, "phone": phone, "forward": forward,
           "no_file": no_file, "auto_reply": auto_reply, "bounce": bounce}
