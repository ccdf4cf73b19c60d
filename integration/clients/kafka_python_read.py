"""kafka-python reads a topic from its start, without a group: what a subscriber of Sluice's topics
runs. Record batches compressed with LZ4 are decoded by python-lz4's frame decoder.

Prints one JSON line for the test to check: the values in order, as text.
"""
import json
import sys

from kafka import KafkaConsumer

bootstrap, topic = sys.argv[1], sys.argv[2]

consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset='earliest',
                         enable_auto_commit=False, consumer_timeout_ms=5000)
values = [m.value.decode() for m in consumer]
consumer.close()

print(json.dumps({'values': values}))
