"""Side-by-side benchmark cases (pyfastnn vs PyTorch vs NumPy), shared by the pytest-benchmark
suites in bench/ and by reports."""
