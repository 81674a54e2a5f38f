"""creditgraph: a city's department credit exports resolved into one entity graph."""
import os

# NumPy asks the kernel for transparent huge pages (madvise) for every array of 4 MB or more,
# and each 2 MB page is zeroed when first written. On this project's machines (VMs that hand
# freed memory back to their host) that zeroing was 21% of a 2M-mention resolve's CPU samples
# (perf: clear_page_erms under do_huge_pmd_*), for arrays made, filled once and dropped. Off,
# a 500k resolve's system time fell from 10 to 4 s and its wall by 5%; at 2M the wall fell 6%
# (noisier; BENCHMARKS.md, "Huge pages and whole-frame copies"). NUMPY_MADVISE_HUGEPAGE=1 in
# the environment turns them back on. NumPy reads the variable once, at its first import: the
# `creditgraph` command imports this module first (Spark's Python workers import NumPy before
# any of creditgraph: there the cluster's environment decides).
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
