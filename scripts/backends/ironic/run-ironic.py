"""Run Ironic's API and conductor in one process (ironic.cmd.singleprocess).

Started by scripts/backends/ironic.sh with /usr/bin/python3, which sees Debian's python3-ironic.
"""
import sys

from ironic.cmd.singleprocess import main

if __name__ == '__main__':
    sys.exit(main())
