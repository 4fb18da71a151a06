"""The scan's pipeline below ``scan.py``: inputs, computing stages and the run's facts.

``scan.py`` lists the stages; ``inputs`` turns a study into plain frames, ``compute`` is
what each computing stage does, ``facts`` what goes into ``run_metadata``.
"""
