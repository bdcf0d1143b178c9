import pytest

from pyfastnn import _C

_peaks = {}


@pytest.fixture(scope="session")
def peak_gflops():
    """Measured float32 FMA peak of this machine for 1 and 2 threads (the active ISA)."""

    def get(threads):
        if threads not in _peaks:
            _peaks[threads] = max(_C.peak_gflops(threads, 0.3) for _ in range(3))
        return _peaks[threads]

    return get
