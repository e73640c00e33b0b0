"""Create Ironic's database schema (ironic.cmd.dbsync create_schema)."""
import sys

from ironic.cmd.dbsync import main

if __name__ == '__main__':
    sys.exit(main())
