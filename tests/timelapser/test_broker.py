"""The embedded (filesystem) broker never hands a consumer a message that is still being written."""

from __future__ import annotations

from queue import Empty

import pytest
from kombu import Connection

from timelapser import broker
from timelapser.celery import app

PAYLOAD = {"body": "x" * 200_000}


def test_embedded_defaults_use_the_whole_message_transport(settings):
    assert settings.CELERY_BROKER_URL == "filesystem://"
    with app.connection_for_write() as connection:
        assert type(connection.transport) is broker.Transport


@pytest.fixture
def channel(tmp_path):
    folders = {name: tmp_path / name for name in ("queue", "processed", "control")}
    for folder in folders.values():
        folder.mkdir()
    options = {
        "data_folder_in": str(folders["queue"]),
        "data_folder_out": str(folders["queue"]),
        "processed_folder": str(folders["processed"]),
        "control_folder": str(folders["control"]),
    }
    with Connection("filesystem://", transport_options=options) as connection:
        yield connection.default_channel


def test_a_message_still_being_written_is_not_delivered(channel, tmp_path):
    """GIVEN a message file that is still being written (the transport's `.partial` name, half a
    JSON body) WHEN a consumer polls THEN it is left alone; once whole and renamed it is delivered."""
    channel._put("capture", PAYLOAD)
    [written] = (tmp_path / "queue").iterdir()
    partial = written.with_name(written.name + ".partial")
    whole = written.read_bytes()
    written.rename(partial)
    partial.write_bytes(whole[: len(whole) // 2])

    with pytest.raises(Empty):
        channel._get("capture")

    partial.write_bytes(whole)
    partial.rename(written)
    assert channel._get("capture") == PAYLOAD


def test_put_leaves_only_the_whole_message(channel, tmp_path):
    channel._put("capture", PAYLOAD)
    channel._put("render", {"n": 1})

    assert sorted(path.suffix for path in (tmp_path / "queue").iterdir()) == [".msg", ".msg"]
    assert channel._get("render") == {"n": 1}
    assert channel._get("capture") == PAYLOAD
