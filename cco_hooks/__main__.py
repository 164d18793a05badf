"""`python -m cco_hooks` is the `cco-hooks` command."""

from cco_hooks.cli.main import main

main()
