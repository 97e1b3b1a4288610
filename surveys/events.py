"""What the domain announces after a change is committed, for whoever wants to follow up.

The domain does not know about the task queue: it sends a signal once a change is stored,
and the web layer (``app.queue``) connects the receivers that put the follow-up work on the
queue. Signals are `blinker`_ signals (Flask's own signal library; no Flask import here).

.. _blinker: https://blinker.readthedocs.io/
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent with the session as sender and ``answer_id``, ``campaign_id`` after a new answer is
#: committed (web form, API, kiosk, paper transcription).
answer_stored = _signals.signal("answer-stored")
