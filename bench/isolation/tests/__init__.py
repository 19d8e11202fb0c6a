"""The same test bodies under two isolation schemes (see ``bench/isolation``)."""
