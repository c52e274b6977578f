"""The embedded broker: kombu's filesystem transport, with messages that appear only when whole.

kombu's own `_put` opens the message file under its final name and writes into it, while a
consumer in another process or thread may already have moved and read it: an empty or half
JSON body, a JSONDecodeError in the worker's consumer, and the worker exits (it took `make
run` down under load on the shared bench machine). Writing to a name consumers ignore and
renaming it into place (atomic on one filesystem) closes that window. timelapser/celery.py makes
it what filesystem:// means; production uses Redis.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        final = Path(self.data_folder_out, f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg")
        # `_get` takes only names ending in ".<queue>.msg"; this one does not until the rename.
        partial = final.with_name(final.name + ".partial")
        try:
            partial.write_bytes(str_to_bytes(dumps(payload)))
            partial.replace(final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
