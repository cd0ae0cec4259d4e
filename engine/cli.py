"""Flag helpers for the command-line programs: absl flags bound to one ``FlagValues``, and the entry point.

Each program in ``scripts/`` defines its flags in ``define_flags(flag_values)``; run as a program it
defines them on ``absl.flags.FLAGS`` (`run_as_program`), while `parse` gives a test a private, parsed
``FlagValues`` to hand to the program's ``main(values)`` or ``run(values)``.
"""
import functools

from absl import app, flags


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
    result is the exit status; any other (a script's ``run`` returns what it measured) means 0."""
    def absl_main(argv):
        if len(argv) > 1:
            raise app.UsageError('unexpected arguments: %s' % ' '.join(argv[1:]))
        result = main(flags.FLAGS)
        return result if isinstance(result, int) and not isinstance(result, bool) else None

    define_flags()
    app.run(absl_main)
