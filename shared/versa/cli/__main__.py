"""`python -m versa.cli`."""

from versa.cli.main import main

raise SystemExit(main())
