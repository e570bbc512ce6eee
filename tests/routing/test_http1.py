"""The gateway's upstream HTTP/1.1 client (routing/http1.py) against a real server on loopback that answers each
request as the test says: framing, keep-alive reuse, a connection closed while idle, cuts, malformed answers,
cancellation, the pool's limit, and header injection."""

from __future__ import annotations

import asyncio
import contextlib

import httpcore
import pytest

from modelgraph.outbound import FailureKind, classify_exception
from routing import http1

HEADERS = [(b"Content-Type", b"application/json")]


class Server:
    """An HTTP/1.1 server on loopback: `answers` are raw responses written in turn, one per request read; a
    callable answer gets the writer (to cut, stall or close). Counts connections and requests."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.connections = 0
        self.requests: list[bytes] = []
        self.writers: list[asyncio.StreamWriter] = []

    async def __aenter__(self):
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/v1"
        return self

    async def __aexit__(self, *exc):
        for writer in self.writers:
            writer.close()
        self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                self.requests.append(head + await reader.readexactly(length))
                answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
                if callable(answer):
                    if await answer(writer) == "closed":
                        return
                else:
                    writer.write(answer)
                    await writer.drain()


def ok(body: bytes = b'{"ok":true}', extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n%s" % (
        extra,
        len(body),
        body,
    )


def pool_of(url: str, max_connections: int = 10) -> http1.Pool:
    return http1.pool_for(url, ssl_context=None, max_connections=max_connections, keepalive_expiry=30.0)


async def post(url: str, content: bytes = b"{}", stream: bool = False, pool: http1.Pool | None = None):
    pool = pool or pool_of(url)
    return await pool.request(
        "POST", f"{url}/chat/completions", headers=HEADERS, content=content, connect_timeout=2, stream=stream
    )


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 20))


class TestFraming:
    def test_a_content_length_answer_is_read_whole_and_the_request_is_exact(self):
        async def scenario():
            async with Server(ok(b'{"id":"x"}', b"X-Extra: 1\r\n")) as server:
                response = await post(server.url, b'{"model":"m"}')
                return server.requests[0], response

        request, response = run(scenario())
        assert request.startswith(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:")
        assert b"\r\nContent-Length: 13\r\n\r\n" in request and request.endswith(b'{"model":"m"}')
        assert response.status == 200 and response.content == b'{"id":"x"}'
        assert (b"X-Extra", b"1") in response.headers

    def test_a_chunked_answer_is_streamed_piece_by_piece(self):
        async def answer(writer):
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            for part in (b"data: 1\n\n", b"data: 2\n\n"):
                writer.write(b"%x\r\n%s\r\n" % (len(part), part))
                await writer.drain()
                await asyncio.sleep(0.01)
            writer.write(b"0\r\n\r\n")

        async def scenario():
            async with Server(answer) as server:
                response = await post(server.url, stream=True)
                return [chunk async for chunk in response.aiter_stream()]

        assert b"".join(run(scenario())) == b"data: 1\n\ndata: 2\n\n"

    def test_a_body_without_length_ends_with_the_connection_and_is_not_reused(self):
        async def answer(writer):
            writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it")
            await writer.drain()
            writer.close()
            return "closed"

        async def scenario():
            async with Server(answer) as server:
                pool = pool_of(server.url)
                first = await post(server.url, pool=pool)
                second = await post(server.url, pool=pool)
                return first.content, second.content, server.connections

        assert run(scenario()) == (b"all of it", b"all of it", 2)

    def test_an_interim_100_continue_is_skipped(self):
        async def scenario():
            async with Server(b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b"final")) as server:
                return (await post(server.url)).content

        assert run(scenario()) == b"final"


class TestKeepAlive:
    def test_sequential_requests_share_one_connection(self):
        async def scenario():
            async with Server(ok()) as server:
                pool = pool_of(server.url)
                for _ in range(20):
                    assert (await post(server.url, pool=pool)).status == 200
                return server.connections, pool.opened, len(pool.idle)

        assert run(scenario()) == (1, 1, 1)

    def test_a_connection_the_server_closed_while_idle_is_replaced_once(self):
        async def scenario():
            async with Server(ok()) as server:
                pool = pool_of(server.url)
                await post(server.url, pool=pool)
                for writer in server.writers:  # the server drops its idle keep-alive connection
                    writer.transport.abort()
                await asyncio.sleep(0.05)
                response = await post(server.url, pool=pool)
                return response.status, server.connections

        assert run(scenario()) == (200, 2)

    def test_a_stream_left_unread_closes_its_connection_instead_of_reusing_it(self):
        async def partly(writer):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsome")
            await writer.drain()
            await asyncio.sleep(5)

        async def scenario():
            async with Server(partly, ok()) as server:
                pool = pool_of(server.url)
                response = await post(server.url, pool=pool, stream=True)
                await response.aclose()
                await post(server.url, pool=pool)
                return server.connections, pool.open

        assert run(scenario()) == (2, 1)

    def test_the_pool_limit_makes_a_request_wait_then_times_out(self):
        async def stall(writer):
            await asyncio.sleep(5)

        async def scenario():
            async with Server(stall) as server:
                pool = pool_of(server.url, max_connections=1)
                first = asyncio.ensure_future(post(server.url, pool=pool))
                await asyncio.sleep(0.05)
                with pytest.raises(httpcore.PoolTimeout):
                    await pool.request("POST", f"{server.url}/x", headers=HEADERS, content=b"", connect_timeout=0.2)
                first.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await first
                return pool.open

        assert run(scenario()) == 0  # the cancelled request's connection was closed, not leaked


class TestFailures:
    def test_a_cut_mid_body_is_a_read_error_classified_as_truncated(self):
        async def answer(writer):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part")
            await writer.drain()
            writer.transport.abort()
            return "closed"

        async def scenario():
            async with Server(answer) as server:
                with pytest.raises(httpcore.ReadError) as caught:
                    await post(server.url)
                return caught.value

        assert classify_exception(run(scenario())) is FailureKind.TRUNCATED

    def test_a_malformed_answer_is_a_protocol_error(self):
        async def scenario():
            async with Server(b"NOT HTTP AT ALL\r\n\r\n") as server:
                with pytest.raises(httpcore.RemoteProtocolError):
                    await post(server.url)

        run(scenario())

    def test_a_refused_connection_is_a_connect_error(self):
        async def scenario():
            server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            server.close()
            await server.wait_closed()
            with pytest.raises(httpcore.ConnectError) as caught:
                await post(f"http://127.0.0.1:{port}/v1")
            return caught.value

        assert classify_exception(run(scenario())) is FailureKind.CONNECT

    def test_a_cancelled_request_closes_its_connection(self):
        async def stall(writer):
            await asyncio.sleep(5)

        async def scenario():
            async with Server(stall, ok()) as server:
                pool = pool_of(server.url)
                with pytest.raises(TimeoutError):
                    async with asyncio.timeout(0.1):
                        await post(server.url, pool=pool)
                return pool.open, len(pool.idle)

        assert run(scenario()) == (0, 0)

    @pytest.mark.parametrize("value", [b"x\r\nEvil: 1", b"x\nEvil: 1", b"x\0"])
    def test_a_header_with_a_line_break_is_refused_before_sending(self, value):
        async def scenario():
            async with Server(ok()) as server:
                with pytest.raises(httpcore.LocalProtocolError):
                    await pool_of(server.url).request(
                        "POST", f"{server.url}/x", headers=[(b"Authorization", value)], content=b"", connect_timeout=1
                    )
                return server.requests

        assert run(scenario()) == []

    @pytest.mark.parametrize("url", ["ftp://host/x", "http:///nohost", "http://host:99999/x"])
    def test_an_unusable_url_is_refused(self, url):
        with pytest.raises(httpcore.UnsupportedProtocol):
            http1._target(url)


class TestTls:
    def test_an_https_upstream_is_verified_and_reused(self, tmp_path):
        """Every real provider is https: a self-signed certificate for 127.0.0.1, trusted by the client's context."""
        import ssl
        import subprocess

        key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
            check=True,
            capture_output=True,
        )  # fmt: skip
        served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        served.load_cert_chain(cert, key)
        trusted = ssl.create_default_context(cafile=str(cert))

        async def scenario():
            async with Server(ok(b"secure")) as plain:
                plain.server.close()
                server = await asyncio.start_server(plain._serve, "127.0.0.1", 0, ssl=served)
                url = f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1"
                pool = http1.pool_for(url, ssl_context=trusted, max_connections=4, keepalive_expiry=30)
                answers = [(await post(url, pool=pool)).content for _ in range(3)]
                untrusted = http1.Pool(
                    http1._target(url)[0],
                    ssl_context=ssl.create_default_context(),
                    max_connections=1,
                    keepalive_expiry=1,
                )
                with pytest.raises(httpcore.ConnectError):
                    await post(url, pool=untrusted)
                server.close()
                return answers, plain.connections

        assert run(scenario()) == ([b"secure"] * 3, 1)  # three answers on one connection; the refused one never got in
