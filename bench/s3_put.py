"""CPU of one image PUT on the capture worker's side: the lean PUT (common.s3put) vs botocore's put_object.

Run from the repo root:  .venv/bin/python bench/s3_put.py [--puts 300] [--rounds 5]
Starts moto's S3 server in its own process on 127.0.0.1 and PUTs the fake camera's
320x240 JPEGs (as bench/ingest.py captures them) from one thread, alternating rounds of
mediastore.put (what ingest calls) and the storage client's put_object, and prints the
median CPU time per PUT of this process (the server's CPU is not counted):
    lean_put_cpu_ms=...   botocore_put_cpu_ms=...   lean_put_saves_cpu_ms=...
CPU time, not wall time, so the figure holds on a busy machine; the load average is printed too.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--puts", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench-secret", AWS_DEFAULT_REGION="us-east-1",
        TIMELAPSER_MEDIA_URL="s3://bench/site", AWS_S3_ENDPOINT_URL=endpoint,
        TIMELAPSER_DATA_DIR=tempfile.mkdtemp(prefix="tl-bench-s3put-"),
        SECRET_KEY="bench-only-secret-key-" + "z" * 40, DJANGO_SETTINGS_MODULE="timelapser.settings",
    )  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.files.storage import storages

        from captures.fakecamera import make_frames
        from common import mediastore
        from common.paths import media_key

        client = storages["media"].connection.meta.client
        deadline = time.time() + 60
        while True:
            try:
                client.create_bucket(Bucket="bench")
                break
            except Exception:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        frames = make_frames(32)
        digests = [hashlib.sha256(f).hexdigest() for f in frames]

        def lean(n: int, name: str) -> None:
            mediastore.put(media_key(name), frames[n % 32], "image/jpeg", sha256=digests[n % 32])

        def botocore(n: int, name: str) -> None:
            client.put_object(
                Bucket="bench", Key=f"site/{name}", Body=frames[n % 32], ContentType="image/jpeg"
            )

        results: dict[str, list[float]] = {"lean": [], "botocore": []}
        load_before = os.getloadavg()[0]
        for round_ in range(args.rounds):
            for way, put in (("lean", lean), ("botocore", botocore)):
                for n in range(10):  # warm: connections, this thread's putter
                    put(n, f"images/warm/{way}/{n}.jpg")
                started = time.process_time()
                for n in range(args.puts):
                    put(n, f"images/{way}/{round_}/{n:05d}.jpg")
                results[way].append((time.process_time() - started) * 1000 / args.puts)
        stored = sum(
            page.get("KeyCount", 0)
            for page in client.get_paginator("list_objects_v2").paginate(
                Bucket="bench", Prefix="site/images/"
            )
        )
        median = {way: sorted(values)[len(values) // 2] for way, values in results.items()}
        print(f"image_bytes={sum(map(len, frames)) // len(frames)}")
        print(f"objects_stored={stored}")
        print(f"lean_put_cpu_ms={median['lean']:.3f}")
        print(f"botocore_put_cpu_ms={median['botocore']:.3f}")
        print(f"lean_put_saves_cpu_ms={median['botocore'] - median['lean']:.3f}")
        print(f"load_average_1min={load_before:.1f} -> {os.getloadavg()[0]:.1f}")
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    main()
