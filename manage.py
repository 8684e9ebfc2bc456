#!/usr/bin/env python
"""Django's command-line utility for the bundled goteo site."""

from goteo.cli import main

if __name__ == "__main__":
    main()
