"""The subcommands, one module per group; each module's ``COMMANDS`` names its own."""
