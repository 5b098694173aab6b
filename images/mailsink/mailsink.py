#!/usr/bin/python3
"""Minimal SMTP sink: accepts all mail, logs one line per message, stores it as .eml.

Environment: MAILSINK_PORT (25), MAILSINK_DIR (/var/spool/mailsink), MAILSINK_KEEP (1000 newest files).
"""
import asyncio
import email
import email.policy
import itertools
import os
import signal
import time

from aiosmtpd.controller import Controller

PORT = int(os.environ.get("MAILSINK_PORT", "25"))
SPOOL = os.environ.get("MAILSINK_DIR", "/var/spool/mailsink")
KEEP = int(os.environ.get("MAILSINK_KEEP", "1000"))
_counter = itertools.count(1)


class Sink:
    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "replace")
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{next(_counter):06d}.eml"
        path = os.path.join(SPOOL, name)
        with open(path + ".tmp", "wb") as f:
            f.write(raw)
        os.replace(path + ".tmp", path)
        print(f"mailsink: stored {name} from={envelope.mail_from} to={','.join(envelope.rcpt_tos)} "
              f"subject={msg.get('Subject', '')!r} bytes={len(raw)}", flush=True)
        prune()
        return "250 Message accepted for delivery"


def prune():
    files = sorted(f for f in os.listdir(SPOOL) if f.endswith(".eml"))
    for f in files[:-KEEP] if KEEP > 0 else []:
        try:
            os.unlink(os.path.join(SPOOL, f))
        except OSError:
            pass


def main():
    os.makedirs(SPOOL, exist_ok=True)
    controller = Controller(Sink(), hostname="0.0.0.0", port=PORT, server_hostname="mailsink",
                            decode_data=False)
    controller.start()
    print(f"mailsink: listening on 0.0.0.0:{PORT}, storing in {SPOOL}", flush=True)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.run_until_complete(stop.wait())
    controller.stop()


if __name__ == "__main__":
    main()
