from claw_lsp.cli import main

raise SystemExit(main())
