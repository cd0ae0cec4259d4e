"""Flag helpers for the command-line programs: absl flags bound to one ``FlagValues``, and the entry point.

Each program in ``scripts/`` defines its flags in ``define_flags(flag_values)``; run as a program it
defines them on ``absl.flags.FLAGS`` (`run_as_program`), while `parse` gives a test a private, parsed
``FlagValues`` to hand to the program's ``main(values)`` or ``run(values)``.
"""
import functools
import os
import signal
import sys

from absl import app, flags

TRACEBACK_VARIABLE = 'TF1ZOO_TRACEBACK'
VERBOSE_FLAG = 'verbose'


class Terminated(KeyboardInterrupt):
    """SIGTERM (what cluster managers and ``kill`` send), raised as Ctrl-C's KeyboardInterrupt is, so
    that a training run saves its current step before it stops."""

    signal_name = 'SIGTERM'


def _raise_terminated(signum, frame):
    raise Terminated('terminated by SIGTERM')


def interrupted_exit_status(interrupt):
    """128 + the signal's number, as a shell reports a process killed by it: 130 for Ctrl-C, 143
    for SIGTERM."""
    return 128 + (signal.SIGTERM if getattr(interrupt, 'signal_name', '') == 'SIGTERM'
                  else signal.SIGINT)


class Definer:
    """``Definer(flag_values).string(name, default, help)`` is ``flags.DEFINE_string(..., flag_values)``."""

    def __init__(self, flag_values):
        self.flag_values = flag_values

    def __getattr__(self, kind):
        return functools.partial(getattr(flags, 'DEFINE_' + kind), flag_values=self.flag_values)

    def required(self, names):
        flags.mark_flags_as_required(names, flag_values=self.flag_values)


def parse(define_flags, **values):
    """A new FlagValues with ``define_flags``' flags parsed from ``--name=value`` pairs.

    Raises:
      flags.Error: an unknown flag, a bad value or a missing required flag.
    """
    flag_values = flags.FlagValues()
    define_flags(flag_values)
    argv = ['script'] + ['--%s=%s' % (name, ','.join(map(str, value)) if isinstance(value, (list, tuple))
                                      else value) for name, value in values.items() if value is not None]
    flag_values(argv)
    flag_values.validate_all_flags()
    return flag_values


def run_as_program(define_flags, main):
    """A script's ``if __name__ == '__main__'`` body: defines its flags on absl's ``FLAGS``, parses the
    command line (stray positional arguments are a usage error) and calls ``main(FLAGS)``. An int
    result is the exit status; any other (a script's ``run`` returns what it measured) means 0.

    Ctrl-C and SIGTERM end the program with one line on stderr (a train loop's says which step it
    saved) and status 130 or 143, never 0; a user error (`user_error_types`) with one line and 1,
    unless ``--verbose`` (defined here for every program) asks for its traceback.
    """
    def absl_main(argv):
        if len(argv) > 1:
            raise app.UsageError('unexpected arguments: %s' % ' '.join(argv[1:]))
        # --verbose: a user error keeps its traceback too (an empty tuple catches nothing).
        reported = () if flags.FLAGS[VERBOSE_FLAG].value else user_error_types()
        try:
            result = main(flags.FLAGS)
        except KeyboardInterrupt as interrupt:
            print('%s: %s' % (_program(), str(interrupt) or 'interrupted (Ctrl-C)'), file=sys.stderr)
            return interrupted_exit_status(interrupt)
        except reported as error:
            print('%s: error: %s' % (_program(), error), file=sys.stderr)
            return 1
        return result if isinstance(result, int) and not isinstance(result, bool) else None

    signal.signal(signal.SIGTERM, _raise_terminated)
    # A program started in the background by a non-interactive shell (``cmd &`` in a script, a CI
    # runner) inherits SIGINT ignored, and Python then leaves it ignored: SIGINT would neither stop
    # nor save a run. Ctrl-C's handler, explicitly.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    define_flags()
    if VERBOSE_FLAG not in flags.FLAGS:
        flags.DEFINE_bool(VERBOSE_FLAG, False, 'Show the Python traceback of a user error (bad data, '
                          'a train dir that does not fit, a diverged run) after its one-line message '
                          'is raised; bugs always show theirs.')
    try:
        app.run(absl_main)
    except KeyboardInterrupt as interrupt:  # during flag parsing or absl's set-up
        print('%s: interrupted' % _program(), file=sys.stderr)
        sys.exit(interrupted_exit_status(interrupt))


def _program():
    return sys.argv[0].rsplit('/', 1)[-1] if sys.argv and sys.argv[0] else 'program'


def user_error_types():
    """The exceptions `run_as_program` reports without a traceback: bad dataset files, train dirs
    that do not fit, diverged runs, and ValueError (settings that do not fit) unless
    ``TF1ZOO_TRACEBACK`` is set. Other exceptions are bugs and keep their traceback. (Imported
    here, late: this module is imported by every script before TensorFlow is set up.)"""
    from tf1zoo.datasets.tfrecord_io import DatasetError
    from tf1zoo.engine.train_loop import NaNLossError, TrainDirError
    if os.environ.get(TRACEBACK_VARIABLE):
        return (DatasetError, TrainDirError, NaNLossError)
    # ValueError: what the library raises for settings that do not fit (a size, a checkpoint of
    # another model, a missing file named); TF1ZOO_TRACEBACK=1 shows its traceback instead.
    return (DatasetError, TrainDirError, NaNLossError, ValueError)
