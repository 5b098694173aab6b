"""A command's stdin reaches Invoke in one read, not one character per 10 ms loop."""
import io

from invoke import Context
from invoke.runners import Local

from ops.core.remote import WholeInput

SECRET = "-----BEGIN CERTIFICATE-----\n" + "A" * 1300 + "\n-----END CERTIFICATE-----\n"


def test_invoke_reads_the_whole_input_at_once():
    runner = Local(Context())
    assert runner.read_our_stdin(io.StringIO(SECRET)) == "-"   # Invoke's own behaviour: 1 character per loop
    assert runner.read_our_stdin(WholeInput(SECRET)) == SECRET
    assert runner.read_our_stdin(WholeInput("")) == ""


def test_a_command_receives_all_of_it():
    r = Context().run("cat", in_stream=WholeInput(SECRET), hide=True)
    assert r.stdout == SECRET
