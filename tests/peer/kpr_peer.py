#!/usr/bin/env python3
"""kpr_peer: an independent AMQP 1.0 peer for kpr-bridge's tests.

kpr-bridge itself speaks AMQP 0-9-1 to RabbitMQ. The Norwegian Helsenett
(NHN) side speaks AMQP 1.0 to the same broker (RabbitMQ 3.x with the
rabbitmq_amqp1_0 plugin). This script plays that side with a different AMQP
stack (python-qpid-proton), so a test can check what an AMQP 1.0 client
really sees, and feed the bridge messages that a real AMQP 1.0 client made.

  receive --url URL --queue Q [--count N] [--timeout S]
      Take N messages (default 1) from queue Q, accept each, and print one
      JSON object per message, one per line:
      {"message_id", "to", "subject", "reply_to", "correlation_id",
       "content_type", "creation_time" (AMQP timestamp, integer ms since the
       epoch, or null), "application_properties": {...}, "body_length"}

  send --url URL --queue Q --body-file F --message-id ID --subject S --to T
       --reply-to R --correlation-id C --content-type CT
       [--creation-time MS] [--prop k=v ...] [--timeout S]
      Send one message with those properties and string application
      properties; the body goes as one AMQP data section (--body-file
      /dev/null for an empty body). Waits until the broker settles it.

  --queue Q addresses the existing queue Q as /amq/queue/Q; --address A
  instead uses the AMQP 1.0 address A as it is (e.g. /exchange/EX/RK).

Exit codes: 0 ok, 1 timeout or failure (connection, link, rejected
delivery), 2 bad arguments.

Needs: pip install python-qpid-proton
"""
import argparse
import json
import sys
import time

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def address(args):
    return args.address or "/amq/queue/" + args.queue


def text(value):
    """A property value as JSON can hold it (symbols, uuids, ... as strings)."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).hex()
    return str(value)


def body_length(body):
    if body is None:
        return 0
    if isinstance(body, str):
        return len(body.encode("utf-8"))
    return len(bytes(body))


def describe(msg):
    ct = msg.creation_time  # proton gives float seconds; 0 means absent
    return {
        "message_id": text(msg.id),
        "to": msg.address,
        "subject": msg.subject,
        "reply_to": msg.reply_to,
        "correlation_id": text(msg.correlation_id),
        "content_type": text(msg.content_type) or None,
        "creation_time": round(ct * 1000) if ct else None,
        "application_properties": {k: text(v) for k, v in (msg.properties or {}).items()},
        "body_length": body_length(msg.body),
    }


def receive(args):
    from proton.utils import BlockingConnection
    deadline = time.monotonic() + args.timeout
    conn = BlockingConnection(args.url, timeout=args.timeout)
    try:
        # No prefetch: credit for one message at a time, so exactly N are taken.
        receiver = conn.create_receiver(address(args))
        for _ in range(args.count):
            msg = receiver.receive(timeout=max(deadline - time.monotonic(), 0.01))
            print(json.dumps(describe(msg)), flush=True)
            receiver.accept()
    finally:
        conn.close()


def send(args, body, props):
    from proton import Message
    from proton.utils import BlockingConnection
    msg = Message(
        body=body,
        inferred=True,  # bytes body as a data section, not an amqp-value
        durable=True,
        id=args.message_id,
        address=args.to,
        subject=args.subject,
        reply_to=args.reply_to,
        correlation_id=args.correlation_id,
        content_type=args.content_type,
        creation_time=(args.creation_time if args.creation_time is not None
                       else int(time.time() * 1000)) / 1000.0,
        properties=props,
    )
    conn = BlockingConnection(args.url, timeout=args.timeout)
    try:
        # Raises SendException unless the broker accepts the delivery.
        conn.create_sender(address(args)).send(msg)
    finally:
        conn.close()


def parse(argv):
    p = argparse.ArgumentParser(description="AMQP 1.0 test peer for kpr-bridge")
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("receive", "send"):
        s = sub.add_parser(name)
        s.add_argument("--url", required=True, help="amqp://user:pass@host:port")
        where = s.add_mutually_exclusive_group(required=True)
        where.add_argument("--queue", help="existing queue, addressed as /amq/queue/Q")
        where.add_argument("--address", help="raw AMQP 1.0 address, e.g. /exchange/EX/RK")
        s.add_argument("--timeout", type=float, default=10.0, help="seconds (default 10)")
        if name == "receive":
            s.add_argument("--count", type=int, default=1)
        else:
            s.add_argument("--body-file", required=True)
            for opt in ("--message-id", "--subject", "--to", "--reply-to",
                        "--correlation-id", "--content-type"):
                s.add_argument(opt, required=True)
            s.add_argument("--creation-time", type=int, help="ms since the epoch (default now)")
            s.add_argument("--prop", action="append", default=[], metavar="K=V",
                           help="string application property; repeatable")
    args = p.parse_args(argv)
    if args.timeout <= 0 or getattr(args, "count", 1) < 1:
        p.error("--timeout and --count must be positive")
    return p, args


def main(argv=None):
    p, args = parse(argv)  # argparse exits 2 on bad arguments
    body, props = None, {}
    if args.cmd == "send":
        for kv in args.prop:
            key, sep, value = kv.partition("=")
            if not sep or not key:
                p.error("--prop wants K=V, got %r" % kv)
            props[key] = value
        try:
            with open(args.body_file, "rb") as f:
                body = f.read()
        except OSError as e:
            p.error("cannot read --body-file: %s" % e)
    try:
        receive(args) if args.cmd == "receive" else send(args, body, props)
    except Exception as e:  # Timeout, ConnectionException, LinkDetached, SendException...
        print("kpr_peer %s failed: %s: %s" % (args.cmd, type(e).__name__, e), file=sys.stderr)
        return EXIT_FAIL
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
