"""The main jobs' resumable steps (``run_demo.py``, `gan_demo`): each named, timed and skipped when its
output is already there, so that an interrupted job resumes where it stopped."""
import time


def run_step(name, done, action, timings):
    """Runs ``action()`` unless ``done``; records its seconds in ``timings[name]``."""
    start = time.time()
    if done:
        print('[%s] already done, skipped' % name)
    else:
        print('[%s] ...' % name)
        action()
    timings[name] = round(time.time() - start, 1)
