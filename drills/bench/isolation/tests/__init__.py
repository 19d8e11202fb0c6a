"""The same test bodies under two isolation schemes (see ``drills/bench/isolation``)."""
