"""The streaming line writer hands over whole lines, however Invoke chunks and flushes the output."""
from ops.core.remote import _LineWriter


def test_lines_split_across_chunks_and_flushes_stay_whole():
    lines = []
    w = _LineWriter(lines.append)
    # Invoke writes each chunk it read from the channel and flushes after every one (Runner.write_our_output)
    for chunk in ["Running migrations:\n  No migrations to app", "ly.\r\nmigrate fin", "ished in 23s"]:
        w.write(chunk)
        w.flush()
    assert lines == ["Running migrations:", "  No migrations to apply."]
    w.close()
    assert lines == ["Running migrations:", "  No migrations to apply.", "migrate finished in 23s"]
    w.close()
    assert len(lines) == 3
