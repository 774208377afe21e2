"""RabbitMQ's tutorials 1-7 with pika's BlockingConnection, as the tutorials write them.

Usage: /usr/bin/python3 tutorials.py TUTORIAL AMQP_URL
Prints one JSON object per line (what was received, confirmed, answered) for the test to check; exits 0
when the tutorial ran to its end. A hang is cut short by a deadline and reported as {"t": "timeout"}.
"""
import json
import os
import subprocess
import sys
import uuid

import pika

DEADLINE_S = 10


def emit(**fields):
    print(json.dumps(fields), flush=True)


def unique(prefix):
    return "warren-clients.pika.%s.%s" % (prefix, uuid.uuid4().hex[:8])


def connect(url):
    conn = pika.BlockingConnection(pika.URLParameters(url))
    conn.call_later(DEADLINE_S, lambda: (emit(t="timeout"), os._exit(3)))
    return conn


def consume_until(conn, ch, queue, count, label, auto_ack=True):
    """Consumes `count` messages from `queue`, emitting each; returns when all have arrived."""
    got = []

    def on_message(channel, method, props, body):
        got.append(body)
        emit(t="received", q=label, body=body.decode(), redelivered=method.redelivered)
        if not auto_ack:
            channel.basic_ack(method.delivery_tag)

    tag = ch.basic_consume(queue=queue, on_message_callback=on_message, auto_ack=auto_ack)
    while len(got) < count:
        conn.process_data_events(time_limit=0.1)
    ch.basic_cancel(tag)
    return got


def hello(url):
    conn = connect(url)
    ch = conn.channel()
    queue = unique("hello")
    ch.queue_declare(queue=queue, auto_delete=True)
    ch.basic_publish(exchange="", routing_key=queue, body=b"Hello World!")
    consume_until(conn, ch, queue, 1, "hello")
    conn.close()


def work(url):
    conn = connect(url)
    ch = conn.channel()
    queue = unique("task_queue")
    ch.queue_declare(queue=queue, durable=True)
    tasks = ["task 1.", "task 2..", "task 3...", "task 4...."]
    for t in tasks:
        ch.basic_publish(exchange="", routing_key=queue, body=t.encode(),
                         properties=pika.BasicProperties(delivery_mode=2))
    # A worker in another process takes one task and dies without acking it.
    died = subprocess.run([sys.executable, __file__, "die-worker", url, queue], capture_output=True, text=True, timeout=DEADLINE_S)
    sys.stdout.write(died.stdout)
    sys.stdout.flush()
    worker = conn.channel()
    worker.basic_qos(prefetch_count=1)
    consume_until(conn, worker, queue, len(tasks), "worker", auto_ack=False)
    conn.process_data_events(time_limit=0.1)
    left = ch.queue_declare(queue=queue, passive=True).method.message_count
    emit(t="left", count=left)
    ch.queue_delete(queue=queue)
    conn.close()


def die_worker(url, queue):
    conn = connect(url)
    ch = conn.channel()
    ch.basic_qos(prefetch_count=1)

    def on_message(channel, method, props, body):
        emit(t="received", q="dying", body=body.decode(), redelivered=method.redelivered)
        os._exit(0)  # no ack, no close: the broker sees the socket go away

    ch.basic_consume(queue=queue, on_message_callback=on_message)
    ch.start_consuming()


def pubsub(url):
    conn = connect(url)
    ch = conn.channel()
    exchange = unique("logs")
    ch.exchange_declare(exchange=exchange, exchange_type="fanout", auto_delete=True)
    queues = []
    for _ in range(2):
        q = ch.queue_declare(queue="", exclusive=True).method.queue
        emit(t="queue", name=q)
        ch.queue_bind(exchange=exchange, queue=q)
        queues.append(q)
    for line in ["info: one", "warning: two", "error: three"]:
        ch.basic_publish(exchange=exchange, routing_key="", body=line.encode())
    for i, q in enumerate(queues):
        consume_until(conn, ch, q, 3, "sub%d" % i)
    ch.exchange_delete(exchange=exchange)
    conn.close()


def routing(url):
    conn = connect(url)
    ch = conn.channel()
    exchange = unique("direct_logs")
    ch.exchange_declare(exchange=exchange, exchange_type="direct", auto_delete=True)
    errors = ch.queue_declare(queue="", exclusive=True).method.queue
    ch.queue_bind(exchange=exchange, queue=errors, routing_key="error")
    everything = ch.queue_declare(queue="", exclusive=True).method.queue
    for severity in ["info", "warning", "error"]:
        ch.queue_bind(exchange=exchange, queue=everything, routing_key=severity)
    for severity, body in [("info", "i1"), ("error", "e1"), ("debug", "dropped"), ("warning", "w1"), ("error", "e2")]:
        ch.basic_publish(exchange=exchange, routing_key=severity, body=body.encode())
    consume_until(conn, ch, errors, 2, "errors")
    consume_until(conn, ch, everything, 4, "all")
    ch.exchange_delete(exchange=exchange)
    conn.close()


def topics(url):
    conn = connect(url)
    ch = conn.channel()
    exchange = unique("topic_logs")
    ch.exchange_declare(exchange=exchange, exchange_type="topic", auto_delete=True)
    q1 = ch.queue_declare(queue="", exclusive=True).method.queue
    ch.queue_bind(exchange=exchange, queue=q1, routing_key="*.orange.*")
    q2 = ch.queue_declare(queue="", exclusive=True).method.queue
    ch.queue_bind(exchange=exchange, queue=q2, routing_key="*.*.rabbit")
    ch.queue_bind(exchange=exchange, queue=q2, routing_key="lazy.#")
    for key in ["quick.orange.rabbit", "lazy.orange.elephant", "quick.orange.fox", "lazy.brown.fox",
                "lazy.pink.rabbit", "quick.brown.fox", "quick.orange.male.rabbit", "lazy.orange.male.rabbit"]:
        ch.basic_publish(exchange=exchange, routing_key=key, body=key.encode())
    consume_until(conn, ch, q1, 3, "q1")
    consume_until(conn, ch, q2, 5, "q2")
    ch.exchange_delete(exchange=exchange)
    conn.close()


def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def rpc(url):
    conn = connect(url)
    server = conn.channel()
    rpc_queue = unique("rpc_queue")
    server.queue_declare(queue=rpc_queue, auto_delete=True)
    server.basic_qos(prefetch_count=1)

    def on_request(channel, method, props, body):
        emit(t="request", replyTo=props.reply_to)
        channel.basic_publish(exchange="", routing_key=props.reply_to,
                              properties=pika.BasicProperties(correlation_id=props.correlation_id),
                              body=str(fib(int(body))).encode())
        channel.basic_ack(delivery_tag=method.delivery_tag)

    server.basic_consume(queue=rpc_queue, on_message_callback=on_request)

    client = conn.channel()
    answers = {}

    def on_response(channel, method, props, body):
        answers[props.correlation_id] = body.decode()
        emit(t="answer", correlationId=props.correlation_id, body=body.decode())

    client.basic_consume(queue="amq.rabbitmq.reply-to", on_message_callback=on_response, auto_ack=True)
    requests = [(str(uuid.uuid4()), n) for n in (6, 15, 30)]
    for corr, n in requests:
        emit(t="asked", correlationId=corr, n=n)
        client.basic_publish(exchange="", routing_key=rpc_queue, body=str(n).encode(),
                             properties=pika.BasicProperties(reply_to="amq.rabbitmq.reply-to", correlation_id=corr))
    while len(answers) < len(requests):
        conn.process_data_events(time_limit=0.1)
    conn.close()


def confirms(url):
    conn = connect(url)
    ch = conn.channel()
    ch.confirm_delivery()
    queue = unique("confirms")
    ch.queue_declare(queue=queue, durable=True)
    # With confirms on, BlockingChannel.basic_publish returns only once the broker has acked the
    # message, and raises NackError on a nack: each publish is confirmed individually.
    for i in range(20):
        ch.basic_publish(exchange="", routing_key=queue, body=("m%d" % i).encode(),
                         properties=pika.BasicProperties(delivery_mode=2))
        emit(t="confirmed", n=i)
    # A mandatory message that reaches no queue comes back (basic.return) before its ack.
    try:
        ch.basic_publish(exchange="", routing_key=unique("nowhere"), body=b"x", mandatory=True)
        emit(t="unroutable-accepted")
    except pika.exceptions.UnroutableError as e:
        emit(t="returned", count=len(e.messages), replyCode=e.messages[0].method.reply_code)
    left = ch.queue_declare(queue=queue, passive=True).method.message_count
    emit(t="left", count=left)
    ch.queue_delete(queue=queue)
    conn.close()


TUTORIALS = {"hello": hello, "work": work, "pubsub": pubsub, "routing": routing, "topics": topics,
             "rpc": rpc, "confirms": confirms}

if __name__ == "__main__":
    if sys.argv[1] == "die-worker":
        die_worker(sys.argv[2], sys.argv[3])
    else:
        TUTORIALS[sys.argv[1]](sys.argv[2])
        emit(t="done")
