"""SWE-bench datasets: reading rows and storing them as versioned instances."""
