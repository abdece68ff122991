"""`python -m backprop_ref`: the same command line as the `backprop-ref` console script."""

import sys

from backprop_ref.cli import main

if __name__ == "__main__":
    sys.exit(main())
