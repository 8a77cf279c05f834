"""The I/O edges of getihu: the CLI, readers and writers, the stages and the Prefect flow.

Polars' allocator (jemalloc) gives freed memory back to the kernel almost at once by default. The stages
allocate and free batches of hundreds of megabytes all the time, so the kernel was zeroing the same pages
again and again: a quarter of validate's CPU time at 1M businesses was page faults (BENCHMARKS.md). Freed
pages kept for 30 s cost about 1 GB of resident memory and remove most of that. This must be set before Polars
is first imported, which importing ``flows`` does first; an operator's own setting wins.
"""

import os

os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:30000,muzzy_decay_ms:30000")
