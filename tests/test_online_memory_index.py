"""PeakIndex (lpsched.memory) against the reference future_peak / fits_future_peak."""

from hypothesis import given, settings
from hypothesis import strategies as st

from lpsched.memory import PeakIndex, fits_future_peak, future_peak

runs_st = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 8), st.integers(1, 8)), max_size=8)


@settings(max_examples=400, deadline=None)
@given(runs=runs_st, t=st.integers(0, 12), M=st.integers(5, 60), b=st.integers(0, 6),
       L=st.integers(1, 8), drop=st.integers(0, 8), scan_max=st.sampled_from([0, 2, 256]))
def test_peak_fits_and_earliest_fit_match_reference(runs, t, M, b, L, drop, scan_max):
    """Both ways of checking (walking the ends; the cached arrays, ``scan_max = 0``) and a mix."""
    runs = [(base, min(k, t), e) for base, k, e in runs]
    idx = PeakIndex(scan_max=scan_max)
    for r in runs:
        idx.add(*r)
    if runs and drop < len(runs):  # exercise removal
        idx.remove(*runs[drop])
        runs = runs[:drop] + runs[drop + 1:]
    bases = [r[0] for r in runs]
    starts = [r[1] for r in runs]
    ests = [r[2] for r in runs]
    assert idx.peak(t) == future_peak(t, bases, starts, ests)
    assert idx.next_round(t) == sum(bb + (t - k) + 1 for bb, k, _ in runs)
    assert idx.fits(t, M, b, L) == fits_future_peak(t, M, [*bases, b], [*starts, t], [*ests, L])
    # earliest_fit: the first later time at which the candidate fits, the set unchanged
    truth = None
    for tt in range(t + 1, t + 80):
        if fits_future_peak(tt, M, [*bases, b], [*starts, tt], [*ests, L]):
            truth = tt
            break
    got = idx.earliest_fit(t, M, b, L, max_steps=1000)
    assert got == truth
    early = idx.earliest_fit(t, M, b, L, max_steps=1)
    assert truth is None or (early is not None and early <= truth)
