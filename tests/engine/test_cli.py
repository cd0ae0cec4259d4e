"""The scripts' entry point: Ctrl-C, SIGTERM and user errors end a program in one line and a non-zero
status (engine/cli.py)."""
import signal

import pytest
from absl import flags

from tf1zoo.datasets.tfrecord_io import DatasetError
from tf1zoo.engine import cli


def _run_expecting(exception, main, monkeypatch, *args):
    """Runs ``main`` as a program with the command-line ``args`` (restoring the SIGTERM handler it
    installs); returns the raised ``exception``'s info."""
    monkeypatch.setattr('sys.argv', ['some_script.py', *args])
    previous = signal.getsignal(signal.SIGTERM)
    try:
        with pytest.raises(exception) as raised:
            cli.run_as_program(lambda: None, main)
    finally:
        signal.signal(signal.SIGTERM, previous)
        flags.FLAGS[cli.VERBOSE_FLAG].unparse()  # absl's FLAGS outlive the "program"
    return raised


def _run(main, monkeypatch, capsys):
    exited = _run_expecting(SystemExit, main, monkeypatch)
    return exited.value.code, capsys.readouterr().err


def test_ctrl_c_before_any_step_is_one_line_and_status_130(monkeypatch, capsys):
    def main(values):
        raise KeyboardInterrupt

    status, err = _run(main, monkeypatch, capsys)
    assert status == 130 and err == 'some_script.py: interrupted (Ctrl-C)\n'


def test_sigterm_is_raised_as_an_interrupt_and_exits_143(monkeypatch, capsys):
    def main(values):
        signal.raise_signal(signal.SIGTERM)
        raise AssertionError('SIGTERM did not interrupt')

    status, err = _run(main, monkeypatch, capsys)
    assert status == 143 and err == 'some_script.py: terminated by SIGTERM\n'


def test_a_user_error_is_one_line_and_a_bug_keeps_its_traceback(monkeypatch, capsys):
    def bad_data(values):
        raise DatasetError('/data/x.tfrecord', 'record 3 is damaged')

    status, err = _run(bad_data, monkeypatch, capsys)
    assert status == 1 and err == 'some_script.py: error: /data/x.tfrecord: record 3 is damaged\n'

    def bug(values):
        raise ZeroDivisionError('a bug')

    _run_expecting(ZeroDivisionError, bug, monkeypatch)
    # --verbose: the user error's own traceback, as a bug's.
    _run_expecting(DatasetError, bad_data, monkeypatch, '--verbose')


def test_a_value_error_is_one_line_unless_tracebacks_are_asked_for(monkeypatch, capsys):
    def bad_setting(values):
        raise ValueError('image_size must be 4 x a power of two, got 48')

    status, err = _run(bad_setting, monkeypatch, capsys)
    assert status == 1 and err == ('some_script.py: error: image_size must be 4 x a power of two, '
                                   'got 48\n')
    monkeypatch.setenv(cli.TRACEBACK_VARIABLE, '1')
    _run_expecting(ValueError, bad_setting, monkeypatch)
