"""`python -m deadrelu ...` and the `deadrelu` console script: the Rust command line."""
import sys

from ._native import cli_main


def main() -> None:
    sys.exit(cli_main(sys.argv[1:]))


if __name__ == "__main__":
    main()
