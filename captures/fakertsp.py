"""A camera-like RTSP(S) server on 127.0.0.1, for tests, the demo and the fake Protect console.

It speaks just enough RTSP/1.0 (RFC 2326) for ffmpeg and NVR-style clients to pull frames: OPTIONS,
DESCRIBE (SDP for one H.264 track, packetization-mode=1 with sprop-parameter-sets), SETUP with
RTP/AVP/TCP interleaved transport, PLAY, GET_PARAMETER/SET_PARAMETER (keep-alives) and TEARDOWN.
The video is a short H.264 clip (ffmpeg's testsrc, encoded once at start-up by imageio-ffmpeg's
ffmpeg), looped forever at its frame rate with continuing RTP sequence numbers and timestamps;
NAL units larger than an MTU go as FU-A fragments (RFC 6184), the last packet of each frame has the
marker bit. Optional Basic or Digest credentials (401 with a challenge otherwise), optional TLS
(rtsps, with a certificate such as captures.fakecamera.self_signed_cert makes). One thread per
client; a client that goes away ends its thread.

Not implemented: UDP or multicast transport, RTCP sender reports (clients' reports are read and
dropped), audio, more than one stream path, PAUSE and seeking. SRTP is not spoken: UniFi Protect's
`rtsps://...?enableSrtp` URLs are answered with plain RTP inside the TLS connection (the query is
ignored), which is what ffmpeg pulls frames from once TLS is up.

    python -m captures.fakertsp PORT [USER PASSWORD] [--tls CERT KEY] [--digest]

serves rtsp(s)://127.0.0.1:PORT/cam and prints "ready" when it listens.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import functools
import hashlib
import itertools
import re
import secrets
import select
import signal
import socket
import ssl
import struct
import subprocess
import threading
import time
from typing import NamedTuple
from urllib.parse import urlsplit

MAX_PAYLOAD = 1400  # RTP payload bytes per packet, so a packet fits an Ethernet MTU
CLOCK = 90_000  # H.264's RTP clock rate
REALM = "timelapser-fake-camera"
REASONS = {
    200: "OK",
    401: "Unauthorized",
    404: "Not Found",
    454: "Session Not Found",
    461: "Unsupported Transport",
    501: "Not Implemented",
}
# A stalled client must not hold its thread (and the clip's pacing) forever.
SEND_TIMEOUT = 30.0


Clip = tuple[tuple[bytes, ...], ...]  # frames, each its NAL units without start codes


class Request(NamedTuple):
    method: str
    uri: str
    headers: dict[str, str]  # names in lower case


@functools.cache
def encode_clip(size: tuple[int, int] = (320, 240), fps: int = 10, seconds: int = 2) -> Clip:
    """The test clip as access units (frames) of H.264 NAL units.

    Baseline profile (no B-frames, so decode order is display order) and a key frame every
    second, so a client that joins gets a picture within a second of the clip.
    """
    import imageio_ffmpeg

    width, height = size
    annex_b = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error",
         "-f", "lavfi", "-i", f"testsrc=size={width}x{height}:rate={fps}", "-frames:v", str(fps * seconds),
         "-c:v", "libx264", "-profile:v", "baseline", "-preset", "ultrafast", "-g", str(fps),
         "-pix_fmt", "yuv420p", "-f", "h264", "pipe:1"],
        check=True, capture_output=True, timeout=120,
    ).stdout  # fmt: skip
    frames: list[list[bytes]] = []
    current: list[bytes] = []
    for nal in (n for n in re.split(b"\x00\x00\x01", annex_b) if n.strip(b"\x00")):
        nal = nal.rstrip(b"\x00")  # a 4-byte start code leaves a zero on the previous unit
        kind = nal[0] & 0x1F
        has_slice = any(n[0] & 0x1F in (1, 5) for n in current)
        # A new frame starts at a parameter set, SEI or delimiter after a slice, or at a slice
        # whose first_mb_in_slice is 0 (its ue(v) code is a single 1 bit).
        if has_slice and (kind in (6, 7, 8, 9) or (kind in (1, 5) and nal[1] & 0x80)):
            frames.append(current)
            current = []
        current.append(nal)
    if current:
        frames.append(current)
    return tuple(tuple(frame) for frame in frames)


def rtp_packets(nal: bytes, last_in_frame: bool) -> list[tuple[bytes, bool]]:
    """(payload, marker) for one NAL unit: as is when it fits, else FU-A fragments."""
    if len(nal) <= MAX_PAYLOAD:
        return [(nal, last_in_frame)]
    indicator = (nal[0] & 0xE0) | 28
    kind = nal[0] & 0x1F
    chunks = [nal[i : i + MAX_PAYLOAD - 2] for i in range(1, len(nal), MAX_PAYLOAD - 2)]
    packets = []
    for index, chunk in enumerate(chunks):
        start, end = index == 0, index == len(chunks) - 1
        header = (0x80 if start else 0) | (0x40 if end else 0) | kind
        packets.append((bytes([indicator, header]) + chunk, end and last_in_frame))
    return packets


class FakeRtspServer:
    """An RTSP camera on host:port (port 0: any free one) serving `path`; see the module docstring."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/cam",
        username: str = "",
        password: str = "",
        digest: bool = False,
        tls: tuple[str, str] | None = None,
        size: tuple[int, int] = (320, 240),
        fps: int = 10,
    ):
        self.path, self.username, self.password, self.digest = path.rstrip("/"), username, password, digest
        self.fps = fps
        self.frames = encode_clip(size, fps)
        self.context = None
        if tls is not None:
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.context.load_cert_chain(*tls)
        self.scheme = "rtsps" if tls else "rtsp"
        self.nonce = secrets.token_hex(16)
        self.listener = socket.create_server((host, port))
        self.host, self.port = self.listener.getsockname()[:2]
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.clients: set[socket.socket] = set()
        self.requests: list[Request] = []  # every request, for tests
        self._thread = threading.Thread(target=self._accept, name="fakertsp-accept", daemon=True)

    def url(self, path: str | None = None) -> str:
        return f"{self.scheme}://{self.host}:{self.port}{self.path if path is None else path}"

    def start(self) -> FakeRtspServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._thread.join()
        self.listener.close()
        with self.lock:
            for client in self.clients:
                with contextlib.suppress(OSError):  # already gone
                    client.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> FakeRtspServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            if not select.select([self.listener], [], [], 0.1)[0]:
                continue
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            threading.Thread(target=self._serve, args=(conn,), name="fakertsp-client", daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(SEND_TIMEOUT)
            if self.context is not None:
                conn = self.context.wrap_socket(conn, server_side=True)
            with self.lock:
                self.clients.add(conn)
            _Session(self, conn).run()
        except (OSError, ValueError):
            pass  # the client went away or spoke nonsense; either way its connection is done
        finally:
            with self.lock:
                self.clients.discard(conn)
            conn.close()

    def authorized(self, method: str, headers: dict[str, str]) -> bool:
        if not self.username:
            return True
        given = headers.get("authorization", "")
        if given.startswith("Basic ") and not self.digest:
            expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            return secrets.compare_digest(given[6:].strip(), expected)
        if given.startswith("Digest ") and self.digest:
            fields = {k: v.strip('"') for k, v in re.findall(r'(\w+)=("[^"]*"|[^,\s]+)', given[7:])}

            def md5(text: str) -> str:
                return hashlib.md5(text.encode()).hexdigest()

            ha1 = md5(f"{self.username}:{REALM}:{self.password}")
            ha2 = md5(f"{method}:{fields.get('uri', '')}")
            if fields.get("qop"):
                parts = (ha1, fields.get("nonce"), fields.get("nc"), fields.get("cnonce"), fields["qop"], ha2)
            else:
                parts = (ha1, fields.get("nonce"), ha2)
            expected = md5(":".join(str(part) for part in parts))
            return fields.get("nonce") == self.nonce and secrets.compare_digest(
                fields.get("response", ""), expected
            )
        return False

    def challenge(self) -> str:
        if self.digest:
            return f'Digest realm="{REALM}", nonce="{self.nonce}", qop="auth", algorithm=MD5'
        return f'Basic realm="{REALM}"'

    def sdp(self) -> bytes:
        sps = next(n for n in self.frames[0] if n[0] & 0x1F == 7)
        pps = next(n for n in self.frames[0] if n[0] & 0x1F == 8)
        sets = ",".join(base64.b64encode(n).decode() for n in (sps, pps))
        return (
            "v=0\r\n"
            f"o=- {secrets.randbelow(2**31)} 1 IN IP4 127.0.0.1\r\n"
            "s=Timelapser fake camera\r\n"
            "c=IN IP4 0.0.0.0\r\n"
            "t=0 0\r\n"
            "a=control:*\r\n"
            "m=video 0 RTP/AVP 96\r\n"
            "a=rtpmap:96 H264/90000\r\n"
            f"a=fmtp:96 packetization-mode=1;profile-level-id={sps[1:4].hex()};sprop-parameter-sets={sets}\r\n"
            f"a=framerate:{self.fps}\r\n"
            "a=control:track1\r\n"
        ).encode()


class _Session:
    """One client connection: requests in, interleaved RTP out, all on this one thread.

    One thread does both because an ssl socket must not be read and written from two threads.
    """

    def __init__(self, server: FakeRtspServer, conn: socket.socket):
        self.server, self.conn = server, conn
        self.buffer = b""
        self.session_id = ""
        self.channel = 0
        self.playing = False
        self.sequence = secrets.randbelow(2**16)
        self.timestamp = secrets.randbelow(2**32)
        self.ssrc = secrets.randbelow(2**32)
        self.frames = itertools.cycle(server.frames)
        self.next_frame_at = 0.0

    def run(self) -> None:
        while not self.server.stopping.is_set():
            message = self._take_message()
            if message is not None:
                self._handle(*message)
                continue
            wait = max(0.0, self.next_frame_at - time.monotonic()) if self.playing else 0.5
            pending = isinstance(self.conn, ssl.SSLSocket) and self.conn.pending()
            if pending or select.select([self.conn], [], [], wait)[0]:
                data = self.conn.recv(65536)
                if not data:
                    return
                self.buffer += data
            if self.playing and time.monotonic() >= self.next_frame_at:
                self._send_frame()

    def _take_message(self) -> tuple[str, str, dict[str, str], bytes] | None:
        """The next complete request in the buffer, dropping interleaved RTCP from the client."""
        while self.buffer.startswith(b"$"):
            if len(self.buffer) < 4:
                return None
            length = struct.unpack("!H", self.buffer[2:4])[0]
            if len(self.buffer) < 4 + length:
                return None
            self.buffer = self.buffer[4 + length :]
        head, found, rest = self.buffer.partition(b"\r\n\r\n")
        if not found:
            if len(self.buffer) > 65536:
                raise ValueError("request head too long")
            return None
        lines = head.decode("utf-8", "replace").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or 0)
        if len(rest) < length:
            return None
        self.buffer = rest[length:]
        method, uri = [*lines[0].split(" "), "", ""][:2]
        return method.upper(), uri, headers, rest[:length]

    def _reply(self, cseq: str, code: int, headers: dict[str, str] | None = None, body: bytes = b"") -> None:
        lines = [f"RTSP/1.0 {code} {REASONS[code]}", f"CSeq: {cseq}", "Server: timelapser-fakertsp"]
        if self.session_id:
            lines.append(f"Session: {self.session_id};timeout=60")
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if body:
            lines.append(f"Content-Length: {len(body)}")
        self.conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    def _handle(self, method: str, uri: str, headers: dict[str, str], _body: bytes) -> None:
        server = self.server
        cseq = headers.get("cseq", "0")
        path = urlsplit(uri).path.rstrip("/")
        with server.lock:
            server.requests.append(Request(method, uri, headers))
        if method == "OPTIONS":
            public = "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER, SET_PARAMETER"
            self._reply(cseq, 200, {"Public": public})
            return
        if not server.authorized(method, headers):
            self._reply(cseq, 401, {"WWW-Authenticate": server.challenge()})
            return
        if method in ("DESCRIBE", "SETUP", "PLAY") and path not in (server.path, f"{server.path}/track1"):
            self._reply(cseq, 404)
            return
        if method == "DESCRIBE":
            parts = urlsplit(uri)
            base = f"{parts.scheme}://{parts.netloc}{server.path}/"
            self._reply(cseq, 200, {"Content-Type": "application/sdp", "Content-Base": base}, server.sdp())
        elif method == "SETUP":
            self._setup(cseq, headers.get("transport", ""))
        elif method == "PLAY":
            self._play(cseq, headers, uri)
        elif method == "TEARDOWN":
            self.playing = False
            self._reply(cseq, 200)
            self.session_id = ""
        elif method in ("GET_PARAMETER", "SET_PARAMETER"):
            self._reply(cseq, 200)
        else:
            self._reply(cseq, 501)

    def _setup(self, cseq: str, transport: str) -> None:
        # The only transport offered: RTP in the RTSP connection itself (what the app forces).
        match = re.search(r"interleaved=(\d+)", transport)
        if "RTP/AVP/TCP" not in transport.upper():
            self._reply(cseq, 461)
            return
        self.channel = int(match.group(1)) if match else 0
        self.session_id = self.session_id or secrets.token_hex(8)
        channels = f"{self.channel}-{self.channel + 1}"
        self._reply(
            cseq, 200, {"Transport": f"RTP/AVP/TCP;unicast;interleaved={channels};ssrc={self.ssrc:08X}"}
        )

    def _play(self, cseq: str, headers: dict[str, str], uri: str) -> None:
        if not self.session_id or headers.get("session", "").split(";")[0] != self.session_id:
            self._reply(cseq, 454)
            return
        track = uri.split("?", 1)[0].rstrip("/")
        track = track if track.endswith("/track1") else f"{track}/track1"
        info = f"url={track};seq={self.sequence};rtptime={self.timestamp}"
        self._reply(cseq, 200, {"Range": "npt=0.000-", "RTP-Info": info})
        self.playing = True
        self.next_frame_at = time.monotonic()

    def _send_frame(self) -> None:
        frame = next(self.frames)
        out = bytearray()
        for index, nal in enumerate(frame):
            for payload, marker in rtp_packets(nal, index == len(frame) - 1):
                header = struct.pack(
                    "!BBHII", 0x80, (0x80 if marker else 0) | 96, self.sequence, self.timestamp, self.ssrc
                )
                out += struct.pack("!cBH", b"$", self.channel, len(header) + len(payload)) + header + payload
                self.sequence = (self.sequence + 1) % 2**16
        self.conn.sendall(out)
        self.timestamp = (self.timestamp + CLOCK // self.server.fps) % 2**32
        # Paced by the clip's clock, not by sleeps: a late frame shortens the next wait.
        self.next_frame_at += 1 / self.server.fps


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m captures.fakertsp", description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("credentials", nargs="*", metavar="USER PASSWORD")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--digest", action="store_true", help="ask for Digest instead of Basic auth")
    args = parser.parse_args(argv)
    if len(args.credentials) not in (0, 2):
        parser.error("give both USER and PASSWORD, or neither")
    username, password = args.credentials or ("", "")
    server = FakeRtspServer(
        port=args.port, username=username, password=password, digest=args.digest, tls=args.tls
    )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with server:
        print("ready", flush=True)  # noqa: T201 - the line a parent process waits for
        with contextlib.suppress(KeyboardInterrupt):
            stopped.wait()


if __name__ == "__main__":
    main()
