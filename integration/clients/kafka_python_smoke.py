"""kafka-python 2.0.2 smoke test, brief section 7.4: version probe, produce, group consume, commit.

Prints one JSON line for the test to check.
"""
import json
import sys

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

bootstrap, topic = sys.argv[1], sys.argv[2]

admin = KafkaAdminClient(bootstrap_servers=bootstrap)
admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
admin.close()

producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all')
futures = [producer.send(topic, key=b'k%d' % i, value=b'v%d' % i, partition=i % 2) for i in range(5)]
offsets = [f.get(timeout=30).offset for f in futures]
api_version = producer.config['api_version']
producer.close()

consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id='kpy-g', auto_offset_reset='earliest',
                         enable_auto_commit=False, consumer_timeout_ms=5000)
values = sorted(m.value.decode() for m in consumer)
consumer.commit()
committed = {p: consumer.committed(TopicPartition(topic, p)) for p in (0, 1)}
consumer.close()

print(json.dumps({'api_version': list(api_version), 'offsets': offsets, 'values': values, 'committed': committed}))
