"""Exactly-once consume-transform-produce with confluent-kafka (librdkafka), brief section 7.2.

Seeds `in` with 10 records through an idempotent producer, transforms them to `out` in
transactions that also commit the consumer's offsets, then produces one record in a transaction
it aborts. Prints one JSON line with what a read_committed reader of `out` sees and the group's
committed offsets, for the test to check.
"""
import json
import sys
import uuid

from confluent_kafka import Consumer, Producer, TopicPartition

bootstrap, source, sink = sys.argv[1], sys.argv[2], sys.argv[3]
group = 'eos-g-' + uuid.uuid4().hex[:8]

seed = Producer({'bootstrap.servers': bootstrap, 'enable.idempotence': True})
for i in range(10):
    seed.produce(source, key=str(i), value='in-%d' % i)
assert seed.flush(30) == 0

consumer = Consumer({'bootstrap.servers': bootstrap, 'group.id': group, 'enable.auto.commit': False,
                     'auto.offset.reset': 'earliest', 'isolation.level': 'read_committed'})
consumer.subscribe([source])
producer = Producer({'bootstrap.servers': bootstrap, 'transactional.id': 'eos-tx-' + group,
                     'transaction.timeout.ms': 10000})
producer.init_transactions(30)

transformed = 0
while transformed < 10:
    messages = [m for m in consumer.consume(100, 1.0) if m.error() is None]
    if not messages:
        continue
    producer.begin_transaction()
    for message in messages:
        producer.produce(sink, key=message.key(), value=message.value().decode().replace('in-', 'out-'))
    producer.send_offsets_to_transaction(consumer.position(consumer.assignment()),
                                         consumer.consumer_group_metadata(), 30)
    producer.commit_transaction(30)
    transformed += len(messages)

producer.begin_transaction()
producer.produce(sink, value='ABORTED')
producer.flush(30)
producer.abort_transaction(30)
consumer.close()

reader = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'eos-check-' + group,
                   'auto.offset.reset': 'earliest', 'isolation.level': 'read_committed',
                   'enable.partition.eof': True})
reader.subscribe([sink])
seen, eof = [], False
while not eof:
    message = reader.poll(10.0)
    if message is None:
        break
    if message.error():
        eof = message.error().code() == -191  # _PARTITION_EOF
        continue
    seen.append(message.value().decode())
reader.close()

admin = Consumer({'bootstrap.servers': bootstrap, 'group.id': group})
committed = admin.committed([TopicPartition(source, 0)], 30)
admin.close()
print(json.dumps({'out': seen, 'committed': committed[0].offset}))
