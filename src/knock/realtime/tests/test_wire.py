"""Pre-framed text frames decode as the frames any WebSocket client expects."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from knock.realtime.wire import frame_payload, text_frame


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 200_000])
def test_text_frame_parses_as_one_final_text_frame(size: int) -> None:
    payload = (b'{"type":"x","pad":"' + b"a" * size + b'"}')[: max(size, 2)]
    framed = text_frame(payload)
    reader = StreamReader()
    reader.feed_data(framed)
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        frame = done.value
    else:  # pragma: no cover - the whole frame was fed
        raise AssertionError("the frame was not complete")
    assert frame.opcode is Opcode.TEXT and frame.fin and not frame.rsv1
    assert frame.data == payload
    assert frame_payload(framed) == payload
