"""The event stream of WatchEvents: numbered events, a stream id per run, a bounded buffer.

A watcher resumes after the last sequence it saw (with the stream id it saw it in); when those
events are gone (another run, or older than the buffer) its first message says events_lost.
"""
import threading
import uuid as uuidlib
from collections import deque


class EventLog:
    def __init__(self, capacity=10000):
        self.stream_id = str(uuidlib.uuid4())
        self.events = deque(maxlen=capacity)  # (sequence, event message)
        self.last = 0
        self.cond = threading.Condition()

    def append(self, event):
        with self.cond:
            self.last += 1
            self.events.append((self.last, event))
            self.cond.notify_all()
            return self.last

    def position(self):
        with self.cond:
            return f"{self.stream_id}:{self.last}"

    def start(self, stream_id, after):
        """Where a watcher starts: (sequence it starts after, events lost?)."""
        with self.cond:
            first = self.events[0][0] if self.events else self.last + 1
            if after is None:
                return self.last, False
            if stream_id != self.stream_id or after < first - 1:
                return first - 1, True
            if after > self.last:
                raise ValueError(f"afterSequence {after} is past the stream's last sequence {self.last}")
            return after, False

    def after(self, sequence, timeout):
        """Events after `sequence`, waiting up to `timeout` seconds for one; None when it fell out of the buffer."""
        with self.cond:
            if self.last <= sequence:
                self.cond.wait(timeout)
            first = self.events[0][0] if self.events else self.last + 1
            if sequence + 1 < first:
                return None
            return [(s, e) for s, e in self.events if s > sequence]
