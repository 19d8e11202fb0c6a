"""Reference implementations the benchmarks measure Flotilla against."""
