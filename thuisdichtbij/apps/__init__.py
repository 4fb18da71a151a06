"""Applications over the library: the command line and the web server."""
