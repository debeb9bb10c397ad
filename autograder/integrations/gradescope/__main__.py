"""`python -m autograder.integrations.gradescope run`: what the zip's run_autograder calls."""
import sys

from autograder.integrations.gradescope.container import main

sys.exit(main())
