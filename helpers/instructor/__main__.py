"""`python -m helpers.instructor ...` is the `rnn-kit` command line."""
import sys

from helpers.instructor.cli import main

sys.exit(main())
