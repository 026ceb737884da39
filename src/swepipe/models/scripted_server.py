"""A scripted OpenAI-compatible HTTP server on a loopback port, shipped for tests and benchmarks.

    with ScriptedServer(Script(rules=[...]), latency_ms=5) as srv:
        client = OpenAIClient(EndpointSettings(base_url=srv.base_url))
        srv.inject("rate_limit", 2)          # force the next two requests to fail
        srv.stats()["chat"]                  # requests seen per endpoint / fault / status

`ScriptedServer` runs the server on its own event loop in a background thread and binds a free
port; `serve()` runs it in the foreground for the CLI (`swepipe serve-scripted`). What it replies
is in `scripted_rules.py` (script format) and `scripted_app.py` (endpoints).

The transport is asyncio + h11 rather than an ASGI server because faults need raw control of the
socket: an ASGI app cannot close a connection without a response or send a short body.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from pathlib import Path
from typing import Any

import h11

from swepipe import event_loop
from swepipe.models.scripted_app import Reply, ScriptedApp
from swepipe.models.scripted_rules import FaultKind, Script, load_script


class _HttpProtocol(asyncio.Protocol):
    """One HTTP/1.1 keep-alive connection; requests are answered one at a time."""

    def __init__(self, app: ScriptedApp, live: set[_HttpProtocol]) -> None:
        self.app, self.live = app, live
        self.conn = h11.Connection(h11.SERVER)
        self.transport: asyncio.Transport | None = None
        self.task: asyncio.Task | None = None
        self.request: h11.Request | None = None
        self.body: list[bytes] = []
        self.received_at: float | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.live.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.live.discard(self)
        if self.task is not None:  # the client gave up (e.g. timed out on a slow reply)
            self.task.cancel()

    def data_received(self, data: bytes) -> None:
        if self.received_at is None:  # first bytes of the next request
            self.received_at = asyncio.get_running_loop().time()
        self.conn.receive_data(data)
        self._pump()

    def eof_received(self) -> bool | None:
        self.conn.receive_data(b"")
        self._pump()
        return None

    def _pump(self) -> None:
        while self.task is None and self.transport is not None:
            try:
                event = self.conn.next_event()
            except h11.RemoteProtocolError:
                self._send(Reply(400, b'{"error": {"message": "bad HTTP"}}'), close=True)
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Request):
                self.request, self.body = event, []
            elif isinstance(event, h11.Data):
                self.body.append(event.data)
            elif isinstance(event, h11.EndOfMessage):
                self.task = asyncio.get_running_loop().create_task(self._answer())
            elif isinstance(event, h11.ConnectionClosed):
                self.transport.close()
                return

    async def _answer(self) -> None:
        req = self.request
        assert req is not None
        headers = {k.decode().lower(): v.decode("latin-1") for k, v in req.headers}
        try:
            reply = await self.app.handle(req.method.decode(), req.target.decode(), headers,
                                          b"".join(self.body), self.received_at)
        except asyncio.CancelledError:
            return
        except Exception as exc:  # a bug in the app: answer 500 rather than hang the client
            reply = Reply(500, f'{{"error": {{"message": "scripted server bug: {exc!r}"}}}}'.encode())
        self.task, self.received_at = None, None
        self._send(reply)
        if self.transport is not None and not self.transport.is_closing():
            self._pump()

    def _send(self, reply: Reply, close: bool = False) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if reply.action == "drop":
            transport.close()
            return
        headers = [("content-type", "application/json"), ("content-length", str(len(reply.body))),
                   *reply.headers]
        head = self.conn.send(h11.Response(status_code=reply.status, headers=headers))
        if reply.action == "truncate":  # promise the whole body, send half, hang up
            transport.write(head + reply.body[:len(reply.body) // 2])
            transport.close()
            return
        transport.write(head + self.conn.send(h11.Data(data=reply.body))
                        + self.conn.send(h11.EndOfMessage()))
        if close or self.conn.our_state is not h11.DONE or self.conn.their_state is not h11.DONE:
            transport.close()
            return
        self.conn.start_next_cycle()


async def _run(app: ScriptedApp, host: str, port: int, started: Any, stop: asyncio.Event) -> None:
    """Serve until `stop` is set; `started(port)` is called once listening."""
    live: set[_HttpProtocol] = set()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _HttpProtocol(app, live), host, port, backlog=4096)
    started(server.sockets[0].getsockname()[1])
    try:
        await stop.wait()
    finally:
        server.close()
        for proto in list(live):
            if proto.task is not None:
                proto.task.cancel()
            if proto.transport is not None:
                proto.transport.abort()
        await server.wait_closed()


def _build_script(script: Script | str | Path | None, latency_ms: float | None,
                  fault_rate: float | None) -> Script:
    base = script if isinstance(script, Script) else \
        load_script(script) if script is not None else Script()
    update: dict[str, Any] = {}
    if latency_ms is not None:
        update["latency"] = base.latency.model_copy(update={"mean_ms": latency_ms})
    if fault_rate is not None:
        update["faults"] = base.faults.model_copy(update={"rate": fault_rate, "rates": {}})
    return base.model_copy(update=update)


class ScriptedServer:
    """Context manager: the scripted server in a background thread on a free loopback port.

    `latency_ms` and `fault_rate` override the script's values when given."""

    def __init__(self, script: Script | str | Path | None = None, *, host: str = "127.0.0.1",
                 port: int = 0, latency_ms: float | None = None,
                 fault_rate: float | None = None) -> None:
        self.app = ScriptedApp(_build_script(script, latency_ms, fault_rate))
        self.host, self.port = host, port
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI base URL (with `/v1`) to put in `EndpointSettings.base_url`."""
        return f"http://{self.host}:{self.port}/v1"

    def stats(self) -> dict[str, int]:
        return self.app.stats()

    def inject(self, kind: FaultKind, count: int = 1) -> None:
        """Force the next `count` API requests to get fault `kind`."""
        self.app.replier.inject(kind, count)

    def enqueue(self, *replies: str | list[str]) -> None:
        """Append replies to the FIFO queue."""
        self.app.replier.enqueue(*replies)

    def _main(self) -> None:
        def started(port: int) -> None:
            self.port = port
            self._ready.set()

        async def main() -> None:
            self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
            await _run(self.app, self.host, self.port, started, self._stop)

        try:
            event_loop.run(main())
        except BaseException as exc:  # surfaced to the thread that called start()
            self._error = exc
            self._ready.set()

    def start(self) -> "ScriptedServer":
        self._thread = threading.Thread(target=self._main, name="scripted-server", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join()
        self._thread = None

    def __enter__(self) -> "ScriptedServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(host: str = "127.0.0.1", port: int = 8000, latency_ms: float | None = None,
          fault_rate: float | None = None, script: Script | str | Path | None = None,
          ready: Any = None) -> None:
    """Run the scripted server in the foreground until SIGINT/SIGTERM.

    `ready(base_url)` is called once listening (default: print it)."""
    app = ScriptedApp(_build_script(script, latency_ms, fault_rate))
    announce = ready or (lambda url: print(f"scripted OpenAI-compatible server on {url}",
                                           flush=True))

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await _run(app, host, port, lambda p: announce(f"http://{host}:{p}/v1"), stop)

    event_loop.run(main())


def _serve_and_report(script: Script, queue: Any) -> None:
    serve("127.0.0.1", 0, script=script, ready=queue.put)


def start_in_subprocess(script: Script) -> tuple[Any, str]:
    """The scripted server in a process of its own (benchmarks: client and server then do not
    share one interpreter lock). Returns the process (terminate it when done) and the base URL."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_serve_and_report, args=(script, queue), daemon=True)
    proc.start()
    return proc, queue.get(timeout=60)
