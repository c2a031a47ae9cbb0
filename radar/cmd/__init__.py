"""Server-side command line tools."""
