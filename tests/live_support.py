"""The stream server (portal/live/stream.py) under uvicorn in a thread of the test process, and a
small Server-Sent Events reader, shared by tests/test_live_stream.py and the browser tests."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

import requests
import uvicorn

from portal.live.stream import StreamApp


class StreamServer:
    """start() and stop() may be called again: a restart keeps the port, as a real one would."""

    def __init__(self, app, port: int = 0):
        self.app = app
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/events"

    def start(self) -> StreamServer:
        config = uvicorn.Config(StreamApp(self.app), host="127.0.0.1", port=self.port, lifespan="on",
                                log_level="warning", access_log=False, timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the stream server did not start")
            time.sleep(0.02)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            self._thread.join(10)
            self._server = None


@dataclass
class Event:
    name: str
    data: dict
    id: str | None


class EventReader:
    """Reads one open stream; every read gives up after `timeout` seconds of silence."""

    def __init__(self, url: str, *, session_cookie: str | None = None, last_event_id: str | None = None,
                 timeout: float = 10):
        headers = {"Last-Event-ID": last_event_id} if last_event_id is not None else {}
        cookies = {"session": session_cookie} if session_cookie else {}
        self.response = requests.get(url, headers=headers, cookies=cookies, stream=True, timeout=timeout)
        self._lines = self.response.iter_lines(chunk_size=1, decode_unicode=True)

    def next(self) -> Event | None:
        """The next event, or None when the server ended the stream."""
        fields: dict[str, str] = {}
        for line in self._lines:
            if line == "":
                if "event" in fields:
                    return Event(fields["event"], json.loads(fields.get("data", "{}")), fields.get("id"))
                fields = {}
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(": ")
            fields[name] = value
        return None

    def until(self, name: str) -> list[Event]:
        """Events up to and including the first one called `name`."""
        seen = []
        while True:
            event = self.next()
            assert event is not None, f"the stream ended before a {name!r} event; got {seen}"
            seen.append(event)
            if event.name == name:
                return seen

    def close(self) -> None:
        self.response.close()
